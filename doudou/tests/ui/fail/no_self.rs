#[doudou::service]
pub trait Users {
    async fn get_user(id: u64) -> Result<u64, doudou::Error>;
    async fn put_user(&mut self, id: u64) -> Result<u64, doudou::Error>;
    async fn delete_user(self, id: u64) -> Result<u64, doudou::Error>;
}

fn main() {}
