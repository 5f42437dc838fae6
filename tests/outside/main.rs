//! A service written from the README alone, built as a crate outside the workspace by
//! `tests/it/outside.rs`: a type-alias parameter, parameters named like the generated code's
//! locals, a catch-all route, a `char`, an optional body.
//!
//! `shop` serves (GDD_* from the environment); `shop URL` calls the service at URL with the
//! generated client and prints what it got; `shop discover` serves nothing and calls the
//! service `shop` found through the cluster of `GDD_MEM_SEED`.

use doudou::Error;

/// A stock-keeping unit: an alias, so a query parameter like the `u64` it is.
pub type Sku = u64;

#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub text: String,
}

#[doudou::model]
#[derive(Debug, Clone, PartialEq)]
pub struct Echo {
    pub service: Sku,
    pub request: String,
    pub call: char,
    pub note: Option<Note>,
}

#[doudou::service]
pub trait Shop {
    /// `GET /item?service=7&request=r&call=%20`
    async fn get_item(&self, service: Sku, request: String, call: char) -> Result<Echo, Error>;

    /// `PUT /note?service=7` with a JSON body, none, or `null`.
    async fn put_note(&self, service: Sku, note: Option<Note>) -> Result<Echo, Error>;

    /// `GET /files/a/b.txt` answers `a/b.txt`.
    #[get("/files/{*path}")]
    async fn file(&self, path: String) -> Result<String, Error>;
}

struct ShopImpl;

impl Shop for ShopImpl {
    async fn get_item(&self, service: Sku, request: String, call: char) -> Result<Echo, Error> {
        Ok(Echo { service, request, call, note: None })
    }

    async fn put_note(&self, service: Sku, note: Option<Note>) -> Result<Echo, Error> {
        Ok(Echo { service, request: String::new(), call: '-', note })
    }

    async fn file(&self, path: String) -> Result<String, Error> {
        Ok(path)
    }
}

#[doudou::main]
async fn main() {
    let Some(base_url) = std::env::args().nth(1) else {
        if let Err(e) = doudou::Server::new().service(ShopServer::new(ShopImpl)).run().await {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        return;
    };
    let client = if base_url == "discover" { ShopClient::discover("shop") } else { ShopClient::new(base_url) };
    let result = async {
        println!("{:?}", client.get_item(7, "r".into(), '\t').await?);
        println!("{:?}", client.put_note(8, None).await?);
        println!("{:?}", client.put_note(9, Some(Note { text: "hi".into() })).await?);
        println!("{:?}", client.file("a b/c.txt".into()).await?);
        Ok::<_, Error>(())
    };
    if let Err(e) = result.await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
