//! The plugin at its boundary, with no emulator: recorded frames in
//! Binance's documented shapes, a bridged book, the listen key's life, and
//! jobs from `begin` to `Done` with every kind of answer.

mod plugin {
    pub mod books;
    pub mod frames;
    pub mod jobs;
    pub mod support;
    pub mod user_stream;
}
