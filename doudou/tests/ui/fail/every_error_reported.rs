// Three mistakes, three errors; the trait is still emitted, so the impl below adds no noise.
#[doudou::service]
pub trait Users {
    fn get_user(&self, id: u64) -> Result<u64, doudou::Error>;
    async fn get_name(&self) -> String;
    #[get("/users/{id}")]
    async fn user(&self) -> Result<u64, doudou::Error>;
}

struct Impl;

impl Users for Impl {
    fn get_user(&self, id: u64) -> Result<u64, doudou::Error> {
        Ok(id)
    }
    async fn get_name(&self) -> String {
        String::new()
    }
    async fn user(&self) -> Result<u64, doudou::Error> {
        Ok(1)
    }
}

fn main() {}
