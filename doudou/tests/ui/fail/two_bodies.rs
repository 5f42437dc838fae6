#[doudou::model]
pub struct A {
    pub x: u64,
}

#[doudou::service]
pub trait Users {
    async fn post_both(&self, first: A, second: A) -> Result<u64, doudou::Error>;
}

fn main() {}
