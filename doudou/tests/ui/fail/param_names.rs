#[doudou::model]
pub struct Item {
    pub id: u64,
}

#[doudou::service]
pub trait Names {
    /// An unknown key, a name that cannot be one, and two parameters of one name.
    #[get("/items/{kind}")]
    async fn get_items(
        &self,
        #[doudou(rename = "kind")] kind: String,
        #[doudou(name = "page size")] page: u32,
        #[doudou(name = "size")] a: u32,
        size: u32,
    ) -> Result<Item, doudou::Error>;
}

/// A rule serde does not have.
#[doudou::service(rename_all = "Camel")]
pub trait Renamed {
    async fn get_item(&self, item_id: u64) -> Result<Item, doudou::Error>;
}

fn main() {}
