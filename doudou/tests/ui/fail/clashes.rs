#[doudou::service]
pub trait Users {
    async fn new(&self) -> Result<u64, doudou::Error>;
    async fn get_user(&self, id: u64) -> Result<u64, doudou::Error>;
    #[get("/user")]
    async fn fetch(&self, id: u64) -> Result<u64, doudou::Error>;
}

fn main() {}
