// The error type must be doudou::Error; the error points at the return type.
#[doudou::service]
pub trait Users {
    async fn get_user(&self, id: u64) -> Result<u64, String>;
}

fn main() {}
