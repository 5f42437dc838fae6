#[doudou::model]
pub struct Item {
    pub id: u64,
}

#[doudou::service]
pub trait Headers {
    /// A header of a model type: a header is text.
    async fn get_item(&self, #[doudou(header)] item: Item) -> Result<Item, doudou::Error>;

    /// A file and a JSON body would share the one request body.
    async fn post_both(&self, file: doudou::UploadFile, item: Item) -> Result<Item, doudou::Error>;
}

#[doudou::service]
pub trait Places {
    /// A parameter cannot be read from both.
    async fn get_both(&self, #[doudou(header, cookie)] token: String) -> Result<Item, doudou::Error>;
}

#[doudou::service]
pub trait Statuses {
    /// 3xx are redirects, not a `Status`.
    async fn get_moved(&self) -> Result<doudou::Status<301, Item>, doudou::Error>;

    /// 200 is not a redirect.
    async fn get_there(&self) -> Result<doudou::Redirect<200>, doudou::Error>;
}

fn main() {}
