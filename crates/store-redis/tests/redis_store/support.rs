//! The test Redis: the test kit's real redis-server, plus a raw connection
//! for looking at what the store wrote.

pub use consoled_testkit::RedisServer;

/// A plain connection to `redis`.
pub async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("raw redis connection")
}
