//! The Redis image: a registry image when one is configured and can be had, otherwise one built from
//! the local `redis-server` binary and the libraries `ldd` lists, imported through the engine's
//! image-create API. The built image is tagged by Redis version, so it is built once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bollard::query_parameters::CreateImageOptions;
use bollard::Docker;
use futures::StreamExt;

use super::ClusterError;

/// Repository of images built from the local binary.
pub const LOCAL_REPO: &str = "failover-drill/redis";

/// Environment variable naming the `redis-server` binary to build from.
pub const REDIS_SERVER_ENV: &str = "FAILOVER_DRILL_REDIS_SERVER";

/// Path of the binary inside the image; also its entrypoint.
pub const SERVER_PATH: &str = "/usr/bin/redis-server";

/// How long a pull may take before the local build is used.
const PULL_TIMEOUT: Duration = Duration::from_secs(60);

/// A usable image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Repository.
    pub repo: String,
    /// Tag.
    pub tag: String,
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

async fn present(docker: &Docker, image: &str) -> bool {
    docker.inspect_image(image).await.is_ok()
}

async fn pull(docker: &Docker, image: &str) -> Result<(), String> {
    let options = CreateImageOptions {
        from_image: Some(image.to_owned()),
        ..Default::default()
    };
    let mut progress = docker.create_image(Some(options), None, None);
    let pulling = async {
        while let Some(step) = progress.next().await {
            step.map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    tokio::time::timeout(PULL_TIMEOUT, pulling)
        .await
        .map_err(|_| format!("no pull finished in {}s", PULL_TIMEOUT.as_secs()))?
}

/// Returns an image that runs `redis-server`, building it when needed.
pub async fn ensure(
    docker: &Docker,
    configured: Option<&str>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ImageRef, ClusterError> {
    let mut why_not_configured = None;
    if let Some(image) = configured {
        let (repo, tag) = image.rsplit_once(':').unwrap_or((image, "latest"));
        let image_ref = ImageRef {
            repo: repo.to_owned(),
            tag: tag.to_owned(),
        };
        if present(docker, image).await {
            return Ok(image_ref);
        }
        match pull(docker, image).await {
            Ok(()) => return Ok(image_ref),
            Err(e) => {
                progress(&format!(
                    "image {image} is not present and cannot be pulled ({e}); building one from the local redis-server"
                ));
                why_not_configured =
                    Some(format!("{image} is not present and cannot be pulled: {e}"));
            }
        }
    }
    build_local(docker, progress)
        .await
        .map_err(|detail| ClusterError::ImageUnavailable {
            detail: match why_not_configured {
                Some(first) => format!("{first}; and {detail}"),
                None => detail,
            },
        })
}

/// The local `redis-server` binary: `FAILOVER_DRILL_REDIS_SERVER`, else the first on `PATH`.
pub fn find_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(REDIS_SERVER_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{REDIS_SERVER_ENV}={} is not a file",
                path.display()
            ))
        };
    }
    let dirs = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&dirs)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "no redis-server binary to build the image from: install it with \
             `apt-get install -y redis-server`, or set FAILOVER_DRILL_REDIS_SERVER"
                .to_owned()
        })
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads `v=7.0.15` out of `redis-server --version`.
pub(crate) fn parse_version(output: &str) -> Option<String> {
    output
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .map(str::to_owned)
}

/// The absolute library paths in `ldd` output.
pub(crate) fn parse_ldd(output: &str) -> Vec<PathBuf> {
    output
        .lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

fn rootfs_tar(binary: &Path, path: &str, libraries: &[PathBuf]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    // Libraries are often symlinks; the image needs the files they point to, under the linked name.
    tar.follow_symlinks(true);
    // Docker cannot import GNU sparse entries, which a large debug binary can become.
    tar.sparse(false);
    for dir in ["tmp", "data", "etc"] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_mode(0o1777);
        header.set_size(0);
        tar.append_data(&mut header, dir, std::io::empty())?;
    }
    tar.append_path_with_name(binary, path.trim_start_matches('/'))?;
    for lib in libraries {
        tar.append_path_with_name(lib, lib.strip_prefix("/").unwrap_or(lib))?;
    }
    tar.into_inner()
}

/// The version `binary --version` prints, like `7.0.15`.
pub fn binary_version(binary: &Path) -> Result<String, String> {
    let binary_str = binary.to_string_lossy();
    let output = run(&binary_str, &["--version"])?;
    parse_version(&output)
        .ok_or_else(|| format!("cannot read a version from `{binary_str} --version`: {output}"))
}

/// Held while the local image is looked for and imported.
static LOCAL_IMPORT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn build_local(
    docker: &Docker,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ImageRef, String> {
    let binary = find_binary()?;
    let binary_str = binary.to_string_lossy().into_owned();
    let version = binary_version(&binary)?;
    let image = ImageRef {
        repo: LOCAL_REPO.to_owned(),
        tag: version,
    };
    // Drills run in parallel would each import the same image; the first imports it, the others
    // find it present.
    let _one_import = LOCAL_IMPORT.lock().await;
    if present(docker, &image.to_string()).await {
        return Ok(image);
    }
    progress(&format!(
        "building image {image} from {binary_str} and its libraries"
    ));
    import_binary(docker, &binary, SERVER_PATH, &image).await?;
    Ok(image)
}

/// Imports `binary` (at `path` in the image, and its entrypoint) with the libraries `ldd` lists as
/// the image `image`: a minimal image of one program, made without a registry or a Dockerfile.
pub async fn import_binary(
    docker: &Docker,
    binary: &Path,
    path: &str,
    image: &ImageRef,
) -> Result<(), String> {
    let binary_str = binary.to_string_lossy().into_owned();
    let libraries = parse_ldd(&run("ldd", &[&binary_str])?);
    let tar = rootfs_tar(binary, path, &libraries)
        .map_err(|e| format!("cannot pack {binary_str} and its libraries: {e}"))?;
    let options = CreateImageOptions {
        from_src: Some("-".to_owned()),
        repo: Some(image.repo.clone()),
        tag: Some(image.tag.clone()),
        changes: vec![format!("ENTRYPOINT [\"{path}\"]")],
        ..Default::default()
    };
    let mut progress =
        docker.create_image(Some(options), Some(bollard::body_full(tar.into())), None);
    while let Some(step) = progress.next().await {
        step.map_err(|e| format!("the engine refused to import {image}: {e}"))?;
    }
    if !present(docker, &image.to_string()).await {
        return Err(format!("the engine imported {image} but does not list it"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_version_and_libraries() {
        let v = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64";
        assert_eq!(parse_version(v).as_deref(), Some("7.0.15"));
        let ldd = "\tlinux-vdso.so.1 (0x00007fa06a208000)\n\
                   \tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007fa06a107000)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007fa06a20a000)\n";
        assert_eq!(
            parse_ldd(ldd),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libm.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
    }
}
