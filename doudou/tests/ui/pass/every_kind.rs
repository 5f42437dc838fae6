use std::net::SocketAddr;

use doudou::{Error, FileDownload, HeaderMap, Service, UploadFile};

#[doudou::model]
pub struct Item {
    pub id: u64,
    pub tags: Vec<String>,
}

/// A service with every supported kind of method.
#[doudou::service]
pub trait Shop: Clone {
    /// GET /item?id=1
    async fn get_item(&self, id: u64) -> Result<Item, Error>;
    async fn get_items(&self, ids: Vec<u64>, limit: Option<u32>) -> Result<Vec<Item>, Error>;
    async fn post_item(&self, item: Item) -> Result<(), Error>;
    async fn put_item(&self, id: u64, item: Option<Item>) -> Result<Item, Error>;
    async fn post_items(&self, items: Vec<Item>) -> Result<usize, Error>;
    async fn patch_item(&self, fields: std::collections::HashMap<String, String>) -> Result<(), Error>;
    #[get("/items/{id}/tags/{tag}")]
    async fn item_tag(&self, id: u64, tag: String, verbose: bool) -> Result<String, Error>;
    #[delete("/items/{id}")]
    async fn remove(&self, id: u64, headers: HeaderMap, peer: SocketAddr) -> Result<(), Error>;
    async fn upload(&self, file: UploadFile, extra: Option<UploadFile>, more: Vec<UploadFile>, note: String) -> Result<u64, Error>;
    async fn get_export(&self, format: String) -> Result<FileDownload, Error>;
    async fn get(&self) -> Result<String, Error>;
    async fn sign_up(&self, user: String, pass: String) -> Result<bool, Error>;
}

#[derive(Clone)]
struct Impl;

impl Shop for Impl {
    async fn get_item(&self, id: u64) -> Result<Item, Error> {
        Ok(Item { id, tags: vec![] })
    }
    async fn get_items(&self, ids: Vec<u64>, _limit: Option<u32>) -> Result<Vec<Item>, Error> {
        Ok(ids.into_iter().map(|id| Item { id, tags: vec![] }).collect())
    }
    async fn post_item(&self, _item: Item) -> Result<(), Error> {
        Ok(())
    }
    async fn put_item(&self, id: u64, item: Option<Item>) -> Result<Item, Error> {
        Ok(item.unwrap_or(Item { id, tags: vec![] }))
    }
    async fn post_items(&self, items: Vec<Item>) -> Result<usize, Error> {
        Ok(items.len())
    }
    async fn patch_item(&self, _fields: std::collections::HashMap<String, String>) -> Result<(), Error> {
        Ok(())
    }
    async fn item_tag(&self, id: u64, tag: String, verbose: bool) -> Result<String, Error> {
        Ok(format!("{id} {tag} {verbose}"))
    }
    async fn remove(&self, _id: u64, _headers: HeaderMap, _peer: SocketAddr) -> Result<(), Error> {
        Ok(())
    }
    async fn upload(&self, file: UploadFile, _extra: Option<UploadFile>, _more: Vec<UploadFile>, _note: String) -> Result<u64, Error> {
        Ok(file.bytes().len() as u64)
    }
    async fn get_export(&self, format: String) -> Result<FileDownload, Error> {
        Ok(FileDownload::from_bytes(format!("export.{format}"), "data"))
    }
    async fn get(&self) -> Result<String, Error> {
        Ok("root".into())
    }
    async fn sign_up(&self, _user: String, _pass: String) -> Result<bool, Error> {
        Ok(true)
    }
}

fn assert_shop<T: Shop>(_: &T) {}

fn main() {
    let server = ShopServer::new(Impl);
    assert_eq!(server.routes().len(), 12);
    assert_eq!(server.name(), "Shop");
    let client = ShopClient::new("http://127.0.0.1:1");
    assert_shop(&client);
    let doc = shop_openapi();
    assert!(doc["paths"]["/items/{id}/tags/{tag}"]["get"].is_object());
    let _ = doudou::Server::new().service(server);
}
