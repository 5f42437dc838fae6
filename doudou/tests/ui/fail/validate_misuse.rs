// Rules doudou does not check, a bad pattern, and `nested` on a parameter: each reported where
// it is written.
#[doudou::model]
pub struct NewUser {
    #[validate(phone)]
    pub phone: String,
    #[validate(regex(pattern = "([0-9]"))]
    pub zip: String,
    #[validate(range(exclusive_min = 0))]
    pub age: u8,
}

#[doudou::service]
pub trait Users {
    async fn get_users(&self, #[validate(nested)] page: u32) -> Result<u32, doudou::Error>;
}

fn main() {}
