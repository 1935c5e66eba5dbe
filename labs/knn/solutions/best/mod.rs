pub use super::parallel::knn;
