//! `doudou-cli`: scaffolds a doudou service (crate, `.env`, Dockerfile, Kubernetes manifests),
//! builds and pushes its image, and deploys it with kubectl.

mod context;
mod dockerignore;
mod exec;
mod image;
mod kube;
mod manifest;
mod run;
mod scaffold;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Scaffold, build, push and deploy doudou services.
#[derive(Debug, Parser)]
#[command(name = "doudou-cli", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// A container tool `push` drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Tool {
    /// docker build / tag / push.
    Docker,
    /// podman build / tag / push.
    Podman,
    /// buildah build / tag / push.
    Buildah,
}

impl Tool {
    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            Self::Docker => "docker",
            Self::Podman => "podman",
            Self::Buildah => "buildah",
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new service crate in DIR that builds and runs as it is, with its .env,
    /// Dockerfile and Kubernetes manifests. Existing files are never overwritten.
    Init {
        /// The directory to create the service in (created if missing); its name is the
        /// service's name unless --name says otherwise.
        dir: PathBuf,
        /// The service name (lowercase letters, digits and '-'), also the crate and image name;
        /// not one the crate would not build with (a Rust keyword, a crate it depends on, ...).
        #[arg(long)]
        name: Option<String>,
        /// Depend on the doudou crate at this local path (default: the checkout the CLI was
        /// installed from, else the published version).
        #[arg(long, value_name = "PATH")]
        doudou_path: Option<PathBuf>,
        /// The Kubernetes namespace the manifests use (also in the seeds' DNS names).
        #[arg(long, default_value = "default")]
        namespace: String,
    },
    /// Build the image from the build context (see `context`); with -r also tag it {repo}/{prefix}{service}:v{yyyyMMddHHmmss}, push
    /// it, and set it in <service>_deployment.yaml and <service>_statefulset.yaml.
    Push {
        /// The image repository to push to, e.g. registry.example.com/team. Without it the
        /// image is only built.
        #[arg(short = 'r', long = "repo", value_name = "REPO")]
        repo: Option<String>,
        /// A prefix of the image name.
        #[arg(long = "pre", value_name = "PREFIX", default_value = "")]
        prefix: String,
        /// The container tool (default: $DOUDOU_CONTAINER_TOOL, else docker).
        #[arg(long, value_enum, env = "DOUDOU_CONTAINER_TOOL", default_value = "docker")]
        tool: Tool,
    },
    /// Write the image's build context to DIR: the service's sources and Cargo.lock, every
    /// dependency vendored (doudou's own crates packaged), a .cargo/config.toml for them, and
    /// the Dockerfile, which builds offline. `push` builds from it.
    Context {
        /// The directory to write (replaced if an earlier `context` wrote it).
        #[arg(default_value = context::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// cargo run in the service's directory (doudou reads its .env). With --watch, a change
    /// under src/, to Cargo.toml or .env* rebuilds it, and only a successful build replaces
    /// the running instance; a failed one prints the errors and keeps the old one serving.
    Run {
        /// Rebuild and restart on changes.
        #[arg(short = 'w', long)]
        watch: bool,
    },
    /// kubectl apply -f FILE (default <service>_statefulset.yaml), after creating the Secret
    /// its workloads take GDD_MEM_SECRET (the gossip key) from, with a random key, if missing.
    Deploy {
        /// The manifest to apply.
        #[arg(short = 'k', long = "k8s-file", value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// kubectl delete -f FILE (default <service>_statefulset.yaml).
    Shutdown {
        /// The manifest to delete.
        #[arg(short = 'k', long = "k8s-file", value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

/// Everything that stops the CLI, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The input is not usable.
    #[error("{0}")]
    Invalid(String),
    /// A program the command needs is not installed.
    #[error("{program} is not on PATH: {hint}")]
    MissingTool {
        /// The program.
        program: String,
        /// What to do.
        hint: &'static str,
    },
    /// An external command failed.
    #[error("`{command}` failed with {status}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
}

impl CliError {
    fn exit_code(&self) -> ExitCode {
        match self {
            Self::CommandFailed { status, .. } => ExitCode::from(
                status.code().and_then(|c| u8::try_from(c).ok()).filter(|c| *c != 0).unwrap_or(1),
            ),
            _ => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init { dir, name, doudou_path, namespace } => {
            scaffold::init(&dir, name.as_deref(), doudou_path.as_deref(), &namespace)
        }
        Command::Push { repo, prefix, tool } => image::push(repo.as_deref(), &prefix, tool),
        Command::Context { dir } => context::write(&dir),
        Command::Run { watch } => run::run(watch),
        Command::Deploy { file } => kube::deploy(file),
        Command::Shutdown { file } => kube::shutdown(file),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}
