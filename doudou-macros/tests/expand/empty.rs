/// Empty.
#[doudou::service]
pub trait Users {
}
