#[doudou::model]
#[derive(Debug)]
pub struct User {
    pub id: u64,
}
