// A struct without #[doudou::model] cannot be a body: the error says to add it.
pub struct Plain {
    pub x: u64,
}

#[doudou::service]
pub trait Users {
    async fn post_plain(&self, plain: Plain) -> Result<u64, doudou::Error>;
}

fn main() {}
