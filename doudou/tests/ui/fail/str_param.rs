// `&str` and `impl Trait` parameters are refused with what to write instead.
#[doudou::service]
pub trait Users {
    async fn get_user(&self, name: &str) -> Result<u64, doudou::Error>;
    async fn post_name(&self, name: impl Into<String>) -> Result<u64, doudou::Error>;
}

fn main() {}
