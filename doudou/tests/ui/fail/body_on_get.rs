// A GET (or HEAD, DELETE) request carries no body, so a model parameter there is refused.
#[doudou::model]
pub struct PageQuery {
    pub page: u64,
}

#[doudou::service]
pub trait Users {
    async fn get_users(&self, query: PageQuery) -> Result<u64, doudou::Error>;
}

fn main() {}
