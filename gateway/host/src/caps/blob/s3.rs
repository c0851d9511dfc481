//! [`S3BlobStore`]: blobs as objects in an S3 (or S3-compatible) bucket, through the
//! `object_store` crate (signing, retries and the HTTP client are its job).
//!
//! Plugins call `blob` from the chain's blocking threads, and `object_store` is async: the
//! store owns a one-worker tokio runtime, spawns each `put-many` on it and waits for the
//! answer on a channel, so it can be called from any thread (never `block_on`, which
//! panics inside an async context).

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use super::{BlobStore, check_key};
use crate::caps::CapabilityError;

/// Where and how to reach the bucket. Credentials come from the standard AWS environment
/// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, ...), as
/// every AWS tool reads them; the fields here override the environment.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// The bucket; it must exist.
    pub bucket: String,
    /// An S3-compatible server's base URL (`http://127.0.0.1:9000`); `None` for AWS.
    pub endpoint: Option<String>,
    /// The region; `None` takes `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
    /// `endpoint/bucket/key` URLs instead of `bucket.endpoint/key`.
    pub path_style: bool,
    /// Longest one `put_many` may take, retries included.
    pub timeout: Duration,
}

/// Objects in one bucket. `put_many` writes every object concurrently and returns each
/// object's HTTP URL (`{endpoint}/{bucket}/{key}` path-style, else
/// `https://{bucket}.s3.{region}.amazonaws.com/{key}`). Any failure (server down, slower
/// than `timeout`, bucket missing, credentials refused) is
/// [`CapabilityError::Unavailable`]: the plugin reports it as unavailable and the client
/// is asked to retry, with nothing lost.
#[derive(Debug)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    /// Runs the puts; shut down in the background on drop.
    runtime: Option<tokio::runtime::Runtime>,
    bucket: String,
    /// The URL objects are named under, without a trailing `/`.
    base_url: String,
    timeout: Duration,
}

impl S3BlobStore {
    /// Builds the client; nothing is contacted yet.
    ///
    /// # Errors
    /// [`CapabilityError::Config`] for an unusable endpoint or bucket name, or when the
    /// runtime cannot start.
    pub fn open(options: S3Options) -> Result<Self, CapabilityError> {
        let config = |reason: String| CapabilityError::Config {
            what: "blob",
            reason,
        };
        let region = options
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
            .unwrap_or_else(|| "us-east-1".to_owned());
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&options.bucket)
            .with_region(&region)
            .with_virtual_hosted_style_request(!options.path_style)
            .with_client_options(
                ClientOptions::new()
                    .with_timeout(options.timeout)
                    .with_connect_timeout(options.timeout)
                    .with_allow_http(true),
            )
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: options.timeout,
                ..RetryConfig::default()
            });
        let base_url = match &options.endpoint {
            Some(endpoint) => {
                builder = builder.with_endpoint(endpoint);
                let endpoint = endpoint.trim_end_matches('/');
                if options.path_style {
                    format!("{endpoint}/{}", options.bucket)
                } else {
                    let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", endpoint));
                    format!("{scheme}://{}.{host}", options.bucket)
                }
            }
            None if options.path_style => {
                format!("https://s3.{region}.amazonaws.com/{}", options.bucket)
            }
            None => format!("https://{}.s3.{region}.amazonaws.com", options.bucket),
        };
        let store = builder.build().map_err(|e| config(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sluice-blob-s3")
            .enable_all()
            .build()
            .map_err(|e| config(format!("starting the S3 client's runtime: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            runtime: Some(runtime),
            bucket: options.bucket,
            base_url,
            timeout: options.timeout,
        })
    }

    fn unavailable(&self, reason: String) -> CapabilityError {
        CapabilityError::Unavailable {
            backend: "s3",
            at: format!("bucket {}", self.bucket),
            reason,
        }
    }
}

impl BlobStore for S3BlobStore {
    fn put_many(&self, objects: Vec<(String, Vec<u8>)>) -> Result<Vec<String>, CapabilityError> {
        for (key, _) in &objects {
            check_key(key)?;
        }
        let urls: Vec<String> = objects
            .iter()
            .map(|(key, _)| format!("{}/{key}", self.base_url))
            .collect();
        if objects.is_empty() {
            return Ok(urls);
        }
        let Some(runtime) = &self.runtime else {
            return Err(self.unavailable("shut down".to_owned()));
        };
        let (answer, answered) = mpsc::sync_channel(1);
        let store = Arc::clone(&self.store);
        let timeout = self.timeout;
        runtime.spawn(async move {
            let mut puts = tokio::task::JoinSet::new();
            for (key, data) in objects {
                let store = Arc::clone(&store);
                puts.spawn(async move {
                    store
                        .put(&ObjectPath::from(key.as_str()), PutPayload::from(data))
                        .await
                        .map_err(|e| format!("put {key}: {e}"))
                });
            }
            let all = async {
                while let Some(done) = puts.join_next().await {
                    done.map_err(|e| format!("put task failed: {e}"))??;
                }
                Ok(())
            };
            let result = match tokio::time::timeout(timeout, all).await {
                Ok(result) => result,
                Err(_) => Err(format!("no answer within {}ms", timeout.as_millis())),
            };
            // The caller may have gone (it never does before the timeout).
            let _ = answer.send(result);
        });
        match answered.recv() {
            Ok(Ok(())) => Ok(urls),
            Ok(Err(reason)) => Err(self.unavailable(reason)),
            Err(_) => Err(self.unavailable("the S3 client stopped".to_owned())),
        }
    }
}

impl Drop for S3BlobStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async context; this does not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(endpoint: Option<&str>, path_style: bool) -> S3Options {
        S3Options {
            bucket: "traces".to_owned(),
            endpoint: endpoint.map(str::to_owned),
            region: Some("eu-west-1".to_owned()),
            path_style,
            timeout: Duration::from_millis(200),
        }
    }

    #[test]
    fn urls_follow_the_addressing_style() {
        let cases = [
            (
                Some("http://127.0.0.1:9000/"),
                true,
                "http://127.0.0.1:9000/traces/a/b.json",
            ),
            (
                Some("http://minio:9000"),
                false,
                "http://traces.minio:9000/a/b.json",
            ),
            (
                None,
                false,
                "https://traces.s3.eu-west-1.amazonaws.com/a/b.json",
            ),
            (
                None,
                true,
                "https://s3.eu-west-1.amazonaws.com/traces/a/b.json",
            ),
        ];
        for (endpoint, path_style, url) in cases {
            let store = S3BlobStore::open(options(endpoint, path_style)).unwrap();
            assert_eq!(store.put_many(vec![]).unwrap(), Vec::<String>::new());
            assert_eq!(format!("{}/a/b.json", store.base_url), url);
        }
    }

    #[test]
    fn a_server_that_is_down_is_unavailable_in_time_and_bad_keys_are_refused() {
        // Port 9 (discard) on loopback: nothing listens.
        let store = S3BlobStore::open(options(Some("http://127.0.0.1:9"), true)).unwrap();
        let started = std::time::Instant::now();
        let err = store
            .put_many(vec![("k".to_owned(), b"x".to_vec())])
            .unwrap_err();
        assert!(
            matches!(err, CapabilityError::Unavailable { backend: "s3", .. }),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let err = store
            .put_many(vec![("../up".to_owned(), b"x".to_vec())])
            .unwrap_err();
        assert!(matches!(err, CapabilityError::InvalidKey { .. }), "{err}");
    }

    #[test]
    fn dropping_inside_an_async_context_does_not_panic() {
        let store = S3BlobStore::open(options(Some("http://127.0.0.1:9"), true)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async move { drop(store) });
    }
}
