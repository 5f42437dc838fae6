#[doudou::service]
pub trait Users {
    fn get_user(&self, id: u64) -> Result<u64, doudou::Error>;
}

fn main() {}
