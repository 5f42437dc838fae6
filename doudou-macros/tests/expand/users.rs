/// The SPEC's example service.
#[doudou::service]
pub trait Users {
    /// Fetch one user.
    async fn get_user(&self, id: u64) -> Result<User, doudou::Error>;
    /// A page of users.
    async fn page_users(&self, query: PageQuery) -> Result<Page<User>, doudou::Error>;
    async fn delete_user(&self, id: u64) -> Result<(), doudou::Error>;
    #[get("/users/{id}/avatar")]
    async fn avatar(&self, id: u64, size: Option<u32>) -> Result<doudou::FileDownload, doudou::Error>;
    async fn upload(&self, file: doudou::UploadFile, tags: Vec<String>) -> Result<(), doudou::Error>;
}
