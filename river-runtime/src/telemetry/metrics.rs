//! Metrics through the [`metrics`](https://docs.rs/metrics) facade (feature `metrics`);
//! every function here compiles to nothing without the feature.

use super::labels::{Outcome, Side};

#[cfg(feature = "metrics")]
pub(crate) use enabled::*;

#[cfg(not(feature = "metrics"))]
pub(crate) use disabled::*;

#[cfg(feature = "metrics")]
mod enabled {
    use super::{Outcome, Side};
    use metrics::{counter, gauge, histogram, Counter};
    use std::time::Instant;

    /// One call's labels and start time.
    pub(crate) struct Call {
        side: Side,
        kind: &'static str,
        service: String,
        procedure: String,
        started: Instant,
    }

    impl Call {
        pub(crate) fn started(
            side: Side,
            kind: &'static str,
            service: &str,
            procedure: &str,
        ) -> Call {
            counter!(
                "river_calls_started_total",
                "side" => side.as_str(),
                "service" => service.to_string(),
                "procedure" => procedure.to_string(),
                "kind" => kind,
            )
            .increment(1);
            gauge!("river_streams_open", "side" => side.as_str()).increment(1.0);
            Call {
                side,
                kind,
                service: service.to_string(),
                procedure: procedure.to_string(),
                started: Instant::now(),
            }
        }

        pub(crate) fn finished(&self, outcome: Outcome) {
            let labels = [
                ("side", self.side.as_str().to_string()),
                ("service", self.service.clone()),
                ("procedure", self.procedure.clone()),
                ("kind", self.kind.to_string()),
                ("outcome", outcome.as_str().to_string()),
            ];
            counter!("river_calls_finished_total", &labels).increment(1);
            histogram!("river_call_duration_seconds", &labels)
                .record(self.started.elapsed().as_secs_f64());
            gauge!("river_streams_open", "side" => self.side.as_str()).decrement(1.0);
        }
    }

    pub(crate) fn session_opened(side: Side) {
        gauge!("river_sessions_open", "side" => side.as_str()).increment(1.0);
    }

    pub(crate) fn session_closed(side: Side) {
        gauge!("river_sessions_open", "side" => side.as_str()).decrement(1.0);
    }

    pub(crate) fn reconnected(side: Side) {
        counter!("river_reconnects_total", "side" => side.as_str()).increment(1);
    }

    /// Frame and byte counters of one session or client, registered once.
    pub(crate) struct Wire {
        frames_in: Counter,
        bytes_in: Counter,
        frames_out: Counter,
        bytes_out: Counter,
    }

    impl Wire {
        pub(crate) fn new(side: Side) -> Wire {
            let s = side.as_str();
            Wire {
                frames_in: counter!("river_frames_total", "side" => s, "direction" => "in"),
                bytes_in: counter!("river_bytes_total", "side" => s, "direction" => "in"),
                frames_out: counter!("river_frames_total", "side" => s, "direction" => "out"),
                bytes_out: counter!("river_bytes_total", "side" => s, "direction" => "out"),
            }
        }

        pub(crate) fn frame_in(&self, bytes: usize) {
            self.frames_in.increment(1);
            self.bytes_in.increment(bytes as u64);
        }

        pub(crate) fn frame_out(&self, bytes: usize) {
            self.frames_out.increment(1);
            self.bytes_out.increment(bytes as u64);
        }
    }
}

#[cfg(not(feature = "metrics"))]
mod disabled {
    use super::{Outcome, Side};

    pub(crate) struct Call;

    impl Call {
        #[inline]
        pub(crate) fn started(_: Side, _: &'static str, _: &str, _: &str) -> Call {
            Call
        }
        #[inline]
        pub(crate) fn finished(&self, _: Outcome) {}
    }

    #[inline]
    pub(crate) fn session_opened(_: Side) {}
    #[inline]
    pub(crate) fn session_closed(_: Side) {}
    #[inline]
    pub(crate) fn reconnected(_: Side) {}

    pub(crate) struct Wire;

    impl Wire {
        #[inline]
        pub(crate) fn new(_: Side) -> Wire {
            Wire
        }
        #[inline]
        pub(crate) fn frame_in(&self, _: usize) {}
        #[inline]
        pub(crate) fn frame_out(&self, _: usize) {}
    }
}
