//! A writer that takes whole log lines from any thread and writes them out
//! in batches from a thread of its own.
//!
//! A request appends its formatted line to one shared buffer (a copy under
//! a lock held for that copy alone) and goes on; it wakes the writer only
//! when the writer is asleep with nothing to do. The writer takes the whole
//! buffer at once, writes it with one call, and then pauses for
//! [`LINGER`] before it looks again, so that under load the lines of that
//! pause go out together: a busy API costs the process a write and a
//! wake-up per pause, not per line. A line after a quiet spell finds the
//! writer asleep and goes out at once.
//!
//! The buffer is bounded: a line that would take it past its limit is
//! dropped and counted instead of holding the request up.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer waits after each write before it takes the next
/// batch: long enough to gather many lines of a busy API into one write,
/// short enough that a line is out within a couple of milliseconds.
const LINGER: Duration = Duration::from_millis(1);

/// The lines waiting for the writer, and whether it waits for them.
#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    /// The writer is asleep until told there is something to write.
    writer_waiting: bool,
    /// No more lines will come: write out what is queued and stop.
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    /// The most bytes queued at once.
    limit: usize,
    dropped: AtomicUsize,
}

impl Shared {
    // A poisoned lock only means a thread panicked while copying a line
    // in; the buffer holds whole lines before and after, so keep logging.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, line: &[u8]) {
        let mut queue = self.lock();
        if queue.bytes.len() + line.len() > self.limit {
            drop(queue);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        queue.bytes.extend_from_slice(line);
        let wake = std::mem::take(&mut queue.writer_waiting);
        drop(queue);
        if wake {
            self.ready.notify_one();
        }
    }
}

/// The writer thread and the way to stop it: dropping it writes out every
/// queued line first.
pub(super) struct BatchedWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Where the log's lines go: one whole line per `write` call, as
/// `tracing_subscriber::fmt` writes them.
#[derive(Clone)]
pub(super) struct Lines(Arc<Shared>);

/// What the formatter writes one line through.
pub(super) struct Line<'a>(&'a Shared);

/// Counts the lines dropped since the start.
#[derive(Clone)]
pub(super) struct DroppedLines(Arc<Shared>);

impl BatchedWriter {
    /// Starts a thread named `name` writing batches to `out`, with at most
    /// `limit` bytes queued.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub(super) fn spawn<W: Write + Send + 'static>(
        name: &str,
        limit: usize,
        mut out: W,
    ) -> std::io::Result<(BatchedWriter, Lines, DroppedLines)> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            limit,
            dropped: AtomicUsize::new(0),
        });
        let writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || write_batches(&writer, &mut out))?;
        Ok((
            BatchedWriter {
                shared: Arc::clone(&shared),
                thread: Some(thread),
            },
            Lines(Arc::clone(&shared)),
            DroppedLines(shared),
        ))
    }
}

impl Drop for BatchedWriter {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: each batch in one write, then a pause, until closed
/// and drained. A failed write loses that batch; there is nowhere to say so.
fn write_batches(shared: &Shared, out: &mut impl Write) {
    let mut batch = Vec::new();
    loop {
        let closed = {
            let mut queue = shared.lock();
            while queue.bytes.is_empty() && !queue.closed {
                queue.writer_waiting = true;
                queue = shared
                    .ready
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if queue.bytes.is_empty() {
                return;
            }
            std::mem::swap(&mut queue.bytes, &mut batch);
            queue.closed
        };
        let _ = out.write_all(&batch);
        let _ = out.flush();
        batch.clear();
        if !closed {
            std::thread::sleep(LINGER);
        }
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Line(&self.0)
    }
}

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl DroppedLines {
    /// Lines dropped so far because the queue was full.
    pub(super) fn get(&self) -> usize {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that keeps what it is given, and can hold the writer up.
    #[derive(Clone, Default)]
    struct Kept {
        bytes: Arc<Mutex<Vec<u8>>>,
        gate: Arc<Mutex<()>>,
    }

    impl Write for Kept {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _open = self.gate.lock().unwrap();
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_goes_out_in_order_before_drop_returns() {
        let out = Kept::default();
        let (writer, lines, dropped) =
            BatchedWriter::spawn("test-log", 1 << 20, out.clone()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for n in 0..1000 {
                        lines
                            .make_writer()
                            .write_all(format!("{t} {n}\n").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        drop(writer);
        let text = String::from_utf8(out.bytes.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 4000);
        for t in 0..4 {
            let own: Vec<usize> = text
                .lines()
                .filter_map(|l| l.split_once(' '))
                .filter(|(thread, _)| *thread == t.to_string())
                .map(|(_, n)| n.parse().unwrap())
                .collect();
            assert_eq!(own, (0..1000).collect::<Vec<_>>(), "thread {t}'s lines");
        }
        assert_eq!(dropped.get(), 0);
    }

    #[test]
    fn a_full_queue_drops_and_counts_whole_lines() {
        let out = Kept::default();
        let held = out.gate.lock().unwrap();
        let (writer, lines, dropped) = BatchedWriter::spawn("test-log", 10, out.clone()).unwrap();
        // The writer takes the first line and is held at the gate; the
        // queue then fills behind it.
        lines.make_writer().write_all(b"first\n").unwrap();
        while !lines.0.lock().bytes.is_empty() {
            std::thread::yield_now();
        }
        for _ in 0..3 {
            lines.make_writer().write_all(b"line\n").unwrap();
        }
        assert_eq!(dropped.get(), 1, "the third line did not fit");
        drop(held);
        drop(writer);
        assert_eq!(&*out.bytes.lock().unwrap(), b"first\nline\nline\n");
    }
}
