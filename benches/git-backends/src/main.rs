//! `git-backends DIR NAME`: in the project at DIR, the revisions of environment NAME
//! (`NAME.yaml`: the commits of HEAD's first-parent line that changed it) and its text at
//! each, with the backend this binary was built with. Prints one line:
//! `revisions=N bytes=B history_ms=H read_ms=R`, or `error: ...` and exits 1.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, name] = args.as_slice() else {
        eprintln!("usage: git-backends DIR NAME");
        std::process::exit(2);
    };
    match run(dir, name) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            println!("error: {}", e.lines().next().unwrap_or(""));
            std::process::exit(1);
        }
    }
}

/// The revisions (newest first) and the bytes of the file at each, timed.
fn run(dir: &str, name: &str) -> Result<String, String> {
    let start = Instant::now();
    let reader = backend::Reader::open(dir)?;
    let commits = reader.history(name)?;
    let history = start.elapsed();
    let start = Instant::now();
    let mut bytes = 0;
    for c in &commits {
        bytes += reader.read(name, c)?.len();
    }
    let read = start.elapsed();
    Ok(format!(
        "revisions={} bytes={bytes} history_ms={} read_ms={}",
        commits.len(),
        history.as_millis(),
        read.as_millis()
    ))
}

#[cfg(feature = "cli")]
mod backend {
    //! escc's own reader: the `git` command, a few processes per read.
    use escc::project::{Pinned, Repo};

    pub struct Reader(Repo);

    impl Reader {
        pub fn open(dir: &str) -> Result<Self, String> {
            Repo::open(std::path::Path::new(dir)).map(Reader)
        }

        pub fn history(&self, name: &str) -> Result<Vec<String>, String> {
            Ok(self
                .0
                .history(name)?
                .into_iter()
                .map(|r| r.commit)
                .collect())
        }

        pub fn read(&self, name: &str, commit: &str) -> Result<String, String> {
            let (text, _) = self
                .0
                .read(name, &Pinned::new(commit, commit))?
                .ok_or_else(|| format!("{name} is not at {commit}"))?;
            Ok(text)
        }
    }
}

#[cfg(feature = "gix")]
mod backend {
    //! gitoxide, in process.
    pub struct Reader {
        repo: gix::Repository,
        prefix: String,
    }

    fn e(e: impl std::fmt::Display) -> String {
        e.to_string()
    }

    impl Reader {
        pub fn open(dir: &str) -> Result<Self, String> {
            let repo = gix::discover(dir).map_err(e)?;
            let top = repo
                .workdir()
                .ok_or("a bare repository")?
                .canonicalize()
                .map_err(e)?;
            let here = std::path::Path::new(dir).canonicalize().map_err(e)?;
            let prefix = here
                .strip_prefix(&top)
                .map_err(e)?
                .to_string_lossy()
                .into_owned();
            let prefix = if prefix.is_empty() {
                prefix
            } else {
                format!("{prefix}/")
            };
            Ok(Reader { repo, prefix })
        }

        fn blob_id(
            &self,
            commit: gix::ObjectId,
            name: &str,
        ) -> Result<Option<gix::ObjectId>, String> {
            let tree = self
                .repo
                .find_commit(commit)
                .map_err(e)?
                .tree()
                .map_err(e)?;
            let path = format!("{}{name}.yaml", self.prefix);
            Ok(tree
                .lookup_entry_by_path(path)
                .map_err(e)?
                .map(|entry| entry.object_id()))
        }

        pub fn history(&self, name: &str) -> Result<Vec<String>, String> {
            let head = self.repo.head_id().map_err(e)?.detach();
            let mut out = Vec::new();
            for info in self
                .repo
                .rev_walk([head])
                .first_parent_only()
                .all()
                .map_err(e)?
            {
                let info = info.map_err(e)?;
                let now = self.blob_id(info.id, name)?;
                // A shallow clone's last commit has a parent that is not there: as for git,
                // everything in it is new.
                let before = match info.parent_ids.first() {
                    Some(p) if self.repo.has_object(*p) => self.blob_id(*p, name)?,
                    _ => None,
                };
                if now.is_some() && now != before {
                    out.push(info.id.to_string());
                }
            }
            Ok(out)
        }

        pub fn read(&self, name: &str, commit: &str) -> Result<String, String> {
            let commit = gix::ObjectId::from_hex(commit.as_bytes()).map_err(e)?;
            let id = self.blob_id(commit, name)?.ok_or("absent")?;
            let blob = self.repo.find_object(id).map_err(e)?;
            String::from_utf8(blob.data.clone()).map_err(e)
        }
    }
}

#[cfg(feature = "git2")]
mod backend {
    //! libgit2, in process.
    pub struct Reader {
        repo: git2::Repository,
        prefix: String,
    }

    fn e(e: impl std::fmt::Display) -> String {
        e.to_string()
    }

    impl Reader {
        pub fn open(dir: &str) -> Result<Self, String> {
            let repo = git2::Repository::discover(dir).map_err(e)?;
            let top = repo
                .workdir()
                .ok_or("a bare repository")?
                .canonicalize()
                .map_err(e)?;
            let here = std::path::Path::new(dir).canonicalize().map_err(e)?;
            let prefix = here
                .strip_prefix(&top)
                .map_err(e)?
                .to_string_lossy()
                .into_owned();
            let prefix = if prefix.is_empty() {
                prefix
            } else {
                format!("{prefix}/")
            };
            Ok(Reader { repo, prefix })
        }

        fn blob_id(&self, commit: &git2::Commit, name: &str) -> Result<Option<git2::Oid>, String> {
            let path = format!("{}{name}.yaml", self.prefix);
            match commit
                .tree()
                .map_err(e)?
                .get_path(std::path::Path::new(&path))
            {
                Ok(entry) => Ok(Some(entry.id())),
                Err(err) if err.code() == git2::ErrorCode::NotFound => Ok(None),
                Err(err) => Err(e(err)),
            }
        }

        pub fn history(&self, name: &str) -> Result<Vec<String>, String> {
            let mut walk = self.repo.revwalk().map_err(e)?;
            walk.push_head().map_err(e)?;
            walk.simplify_first_parent().map_err(e)?;
            let mut out = Vec::new();
            for id in walk {
                let commit = self.repo.find_commit(id.map_err(e)?).map_err(e)?;
                let now = self.blob_id(&commit, name)?;
                let before = match commit.parent(0) {
                    Ok(p) => self.blob_id(&p, name)?,
                    Err(_) => None,
                };
                if now.is_some() && now != before {
                    out.push(commit.id().to_string());
                }
            }
            Ok(out)
        }

        pub fn read(&self, name: &str, commit: &str) -> Result<String, String> {
            let commit = self
                .repo
                .find_commit(git2::Oid::from_str(commit).map_err(e)?)
                .map_err(e)?;
            let id = self.blob_id(&commit, name)?.ok_or("absent")?;
            let blob = self.repo.find_blob(id).map_err(e)?;
            String::from_utf8(blob.content().to_vec()).map_err(e)
        }
    }
}
