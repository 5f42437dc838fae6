// What a method answers must be a model, `()` or a FileDownload.
pub struct Plain;

#[doudou::service]
pub trait Users {
    async fn get_plain(&self) -> Result<Plain, doudou::Error>;
}

fn main() {}
