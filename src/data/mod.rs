//! Data: IDX/MNIST reading, batching and sequence padding.
