#[doudou::service]
pub struct Users;

fn main() {}
