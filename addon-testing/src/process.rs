//! Programs a test starts, such as an add-on's own binary: killed when the test ends, however
//! it ends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A program a test started, killed (SIGKILL) and reaped when dropped, so a failing test leaves
/// no server behind.
#[derive(Debug)]
pub struct Process {
    child: Child,
}

impl Process {
    /// Starts `command` with its standard output piped and waits, at most `within`, for a line of
    /// that output containing `ready` (such as `"listening on"`); the process and that line. The
    /// rest of the output is read and dropped on a thread of its own, so the program never
    /// blocks on a full pipe.
    ///
    /// Panics, naming the command, if it does not start, or exits or stays silent that long.
    pub fn start(command: &mut Command, ready: &str, within: Duration) -> (Process, String) {
        let (process, line) = Self::spawn(command, ready, within, None);
        (process, line)
    }

    /// [`Process::start`], also keeping every line the program prints on standard output and
    /// standard error (both piped), for tests that read its log: a panic message, a log line.
    pub fn start_captured(
        command: &mut Command,
        ready: &str,
        within: Duration,
    ) -> (Process, String, Captured) {
        let captured = Captured::default();
        let (process, line) = Self::spawn(command.stderr(Stdio::piped()), ready, within, Some(&captured));
        (process, line, captured)
    }

    /// Starts the program, reads its standard output (and, when `keep` is given, its standard
    /// error) on threads of their own, keeping the lines in `keep`, and waits for the ready line.
    fn spawn(
        command: &mut Command,
        ready: &str,
        within: Duration,
        keep: Option<&Captured>,
    ) -> (Process, String) {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{command:?} does not start: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take();
        // Owned from here on, so the program is killed if the wait below panics.
        let process = Process { child };
        let (sender, receiver) = mpsc::channel();
        let marker = ready.to_owned();
        let lines = keep.cloned();
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains(&marker) {
                    if let Some(sender) = sender.take() {
                        let _ = sender.send(line.clone());
                    }
                }
                if let Some(lines) = &lines {
                    lines.push(line);
                }
            }
        });
        if let (Some(stderr), Some(lines)) = (stderr, keep.cloned()) {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    lines.push(line);
                }
            });
        }
        let line = receiver.recv_timeout(within).unwrap_or_else(|_| {
            let printed = keep.map(|lines| format!("; it printed:\n{}", lines.lines().join("\n")));
            panic!(
                "{command:?} printed no line containing `{ready}` within {within:?}{}",
                printed.unwrap_or_default()
            )
        });
        (process, line)
    }

    /// The operating system's id of the process.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Asks the process to stop, as Heroku stops a dyno: SIGTERM (through `kill`, so no unsafe
    /// code). It keeps running until it exits on its own; [`Process::wait`] for it.
    ///
    /// Panics if the signal cannot be sent.
    pub fn terminate(&self) {
        let id = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &id]).status();
        assert!(
            sent.as_ref().is_ok_and(|status| status.success()),
            "could not send SIGTERM to process {id}: {sent:?}"
        );
    }

    /// The process's exit status once it has exited, waiting at most `within` (asking every
    /// 5 ms); `None` if it is still running then.
    pub fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Kills the process at once (SIGKILL: it cleans nothing up) and waits for it to end.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The lines a [`Process::start_captured`] program printed so far, standard output and standard
/// error interleaved as they were read.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<String>>>);

impl Captured {
    fn push(&self, line: String) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(line);
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// The lines so far that contain `text`.
    pub fn matching(&self, text: &str) -> Vec<String> {
        self.lines().into_iter().filter(|line| line.contains(text)).collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_the_ready_line_and_kills_on_drop() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo starting; echo 'listening on http://127.0.0.1:1'; exec sleep 60"]);
        let (process, line) = Process::start(&mut command, "listening on", Duration::from_secs(10));
        assert_eq!(line, "listening on http://127.0.0.1:1");
        let id = process.id().to_string();
        drop(process);
        let alive = Command::new("kill").args(["-0", &id]).status().unwrap().success();
        assert!(!alive, "the process was killed and reaped");
    }

    #[test]
    fn terminate_lets_the_program_exit_with_its_own_status() {
        let mut command = Command::new("sh");
        command.args(["-c", "trap 'exit 3' TERM; echo ready; while :; do sleep 0.01; done"]);
        let (mut process, _) = Process::start(&mut command, "ready", Duration::from_secs(10));
        assert_eq!(process.wait(Duration::from_millis(50)), None, "still running before the signal");
        process.terminate();
        let status = process.wait(Duration::from_secs(10)).expect("exits after SIGTERM");
        assert_eq!(status.code(), Some(3), "the program's own exit status, not a kill");
    }

    #[test]
    #[should_panic(expected = "printed no line containing `listening on`")]
    fn a_program_that_exits_silently_fails_the_test() {
        let mut command = Command::new("true");
        Process::start(&mut command, "listening on", Duration::from_secs(10));
    }
}
