//! A real S3-compatible server on 127.0.0.1 for the upload tests: s3s (which
//! checks SigV4 signatures, presigned links and their expiry included) over
//! s3s-fs (objects in a temp folder), on a tokio runtime in a background
//! thread. Every request is counted.

use std::path::Path;
use std::sync::{Arc, Mutex};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct S3Request {
    pub method: String,
    /// Path only: the query holds signatures.
    pub path: String,
    pub status: u16,
}

pub struct S3Server {
    /// `http://127.0.0.1:PORT`, for AWS_ENDPOINT_URL.
    pub endpoint: String,
    pub bucket: String,
    root: tempfile::TempDir,
    log: Arc<Mutex<Vec<S3Request>>>,
}

impl S3Server {
    /// Start a server with one bucket and one key pair.
    pub fn start(bucket: &str, access_key: &str, secret_key: &str) -> S3Server {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join(bucket)).expect("bucket folder");
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs");
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(access_key, secret_key));
        let service = builder.build();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind loopback");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let counted = log.clone();
        std::thread::spawn(move || {
            runtime.block_on(async move {
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        continue;
                    };
                    let service = service.clone();
                    let log = counted.clone();
                    tokio::spawn(async move {
                        let handler = hyper::service::service_fn(move |req| {
                            let service = service.clone();
                            let log = log.clone();
                            async move {
                                let method = req.method().to_string();
                                let path = req.uri().path().to_string();
                                let resp = hyper::service::Service::call(&service, req).await;
                                let status = resp.as_ref().map_or(500, |r| r.status().as_u16());
                                log.lock().unwrap().push(S3Request {
                                    method,
                                    path,
                                    status,
                                });
                                resp
                            }
                        });
                        let _ = ConnBuilder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(socket), handler)
                            .await;
                    });
                }
            });
        });
        S3Server {
            endpoint,
            bucket: bucket.to_string(),
            root,
            log,
        }
    }

    pub fn requests(&self) -> Vec<S3Request> {
        self.log.lock().unwrap().clone()
    }

    /// Requests with this method (`PUT`, `HEAD`, `GET`).
    pub fn count(&self, method: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method)
            .count()
    }

    /// Objects stored under the bucket, as paths relative to it.
    pub fn objects(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                    // s3s-fs keeps metadata and upload state in hidden files.
                    if !rel.split('/').any(|c| c.starts_with('.')) {
                        out.push(rel);
                    }
                }
            }
        }
        let base = self.root.path().join(&self.bucket);
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        out.sort();
        out
    }
}
