#[doudou::model]
pub struct NewUser {
    #[validate(length(min = 1, max = 64))]
    pub name: String,
    #[validate(email)]
    pub email: String,
    #[validate(regex(pattern = "^[0-9]{5}$"))]
    pub zip: String,
    #[validate(nested)]
    pub address: Address,
}

#[doudou::error]
pub enum UserError {
    /// No user has this id.
    #[error(status = 404, code = 40401)]
    NotFound,
    #[error(status = 409, code = 40901)]
    Conflict { existing_id: u64 },
    #[error(other)]
    Other(doudou::Error),
}

#[doudou::service]
pub trait Users {
    async fn create_user(&self, user: NewUser) -> Result<u64, UserError>;
    async fn get_users(&self, #[validate(range(min = 1, max = 100))] size: u32) -> Result<u64, doudou::Error>;
}
