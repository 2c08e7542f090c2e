//! Running the external programs of the build (cargo, wasm-opt) with errors that name
//! the command.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `command` with inherited output and fails unless it succeeds.
pub fn run(command: &mut Command) -> Result<()> {
    let line = describe(command);
    let status = command
        .status()
        .with_context(|| format!("could not start {line}"))?;
    if !status.success() {
        bail!("{line} failed ({status})");
    }
    Ok(())
}

/// Runs `command` with its output captured, shown only if it fails (wasm-opt warns
/// about every split module's name section).
pub fn run_quiet(command: &mut Command) -> Result<()> {
    let line = describe(command);
    let output = command
        .output()
        .with_context(|| format!("could not start {line}"))?;
    if !output.status.success() {
        bail!(
            "{line} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `cargo` as the one running this xtask (the same toolchain).
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The host's target triple (`rustc -vV`), whose configured rustflags apply to the
/// server build.
pub fn host_triple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(String::from)
        .context("rustc -vV printed no host")
}

fn describe(command: &Command) -> String {
    let envs: Vec<String> = command
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_str()?, v?.to_str()?)))
        .collect();
    let args: Vec<String> = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("`{}`", [envs, args].concat().join(" "))
}

/// Calls `job` on each item, as many at a time as there are cores; the first error wins.
pub fn in_parallel<T: Sync>(items: &[T], job: impl Fn(&T) -> Result<()> + Sync) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return Ok(());
                        };
                        job(item)?;
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| anyhow::anyhow!("a build thread panicked"))?
        })
    })
}

/// Runs one step of the build, printing its name and how long it took.
pub fn step<T>(name: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = std::time::Instant::now();
    println!("xtask: {name}");
    let result = work().with_context(|| format!("xtask: {name}"))?;
    println!("xtask: {name}: {:.1} s", started.elapsed().as_secs_f64());
    Ok(result)
}
