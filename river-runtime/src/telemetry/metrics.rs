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
    use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
    use std::collections::HashMap;
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::sync::{Arc, OnceLock, RwLock};
    use std::time::Instant;

    const OUTCOMES: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::ServiceError,
        Outcome::ProtocolError,
        Outcome::Cancelled,
    ];

    /// The registered series of one procedure on one side, for one recorder.
    struct CallSeries {
        recorder: usize,
        side: Side,
        kind: &'static str,
        service: Box<str>,
        procedure: Box<str>,
        started: Counter,
        finished: [Counter; 4],
        duration: [Histogram; 4],
        streams_open: Gauge,
    }

    impl CallSeries {
        fn register(
            recorder: usize,
            side: Side,
            kind: &'static str,
            service: &str,
            procedure: &str,
        ) -> CallSeries {
            let s = side.as_str();
            let labels = |outcome: Option<Outcome>| {
                let mut l = vec![
                    ("side", s.to_string()),
                    ("service", service.to_string()),
                    ("procedure", procedure.to_string()),
                    ("kind", kind.to_string()),
                ];
                if let Some(o) = outcome {
                    l.push(("outcome", o.as_str().to_string()));
                }
                l
            };
            CallSeries {
                recorder,
                side,
                kind,
                service: service.into(),
                procedure: procedure.into(),
                started: counter!("river_calls_started_total", &labels(None)),
                finished: OUTCOMES
                    .map(|o| counter!("river_calls_finished_total", &labels(Some(o)))),
                duration: OUTCOMES
                    .map(|o| histogram!("river_call_duration_seconds", &labels(Some(o)))),
                streams_open: gauge!("river_streams_open", "side" => s),
            }
        }

        fn is(
            &self,
            recorder: usize,
            side: Side,
            kind: &str,
            service: &str,
            procedure: &str,
        ) -> bool {
            self.recorder == recorder
                && self.side == side
                && self.kind == kind
                && &*self.service == service
                && &*self.procedure == procedure
        }
    }

    /// Registered series by a hash of (recorder, side, kind, service, procedure): a call
    /// looks its series up without allocating, and registers them once per procedure.
    /// The recorder's address is part of the key, so series registered before a recorder
    /// was installed (with the no-op recorder) are not reused after.
    fn series(side: Side, kind: &'static str, service: &str, procedure: &str) -> Arc<CallSeries> {
        static CACHE: OnceLock<RwLock<HashMap<u64, Vec<Arc<CallSeries>>>>> = OnceLock::new();
        let recorder =
            metrics::with_recorder(|r| r as *const dyn metrics::Recorder as *const () as usize);
        let mut h = DefaultHasher::new();
        (recorder, side.as_str(), kind, service, procedure).hash(&mut h);
        let key = h.finish();
        let cache = CACHE.get_or_init(Default::default);
        let find = |map: &HashMap<u64, Vec<Arc<CallSeries>>>| {
            map.get(&key).and_then(|v| {
                v.iter()
                    .find(|s| s.is(recorder, side, kind, service, procedure))
                    .cloned()
            })
        };
        if let Some(found) = cache.read().ok().and_then(|map| find(&map)) {
            return found;
        }
        let mut map = match cache.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(found) = find(&map) {
            return found;
        }
        let made = Arc::new(CallSeries::register(
            recorder, side, kind, service, procedure,
        ));
        map.entry(key).or_default().push(made.clone());
        made
    }

    /// One call's series and start time.
    pub(crate) struct Call {
        series: Arc<CallSeries>,
        started: Instant,
    }

    impl Call {
        pub(crate) fn started(
            side: Side,
            kind: &'static str,
            service: &str,
            procedure: &str,
        ) -> Call {
            let series = series(side, kind, service, procedure);
            series.started.increment(1);
            series.streams_open.increment(1.0);
            Call {
                series,
                started: Instant::now(),
            }
        }

        pub(crate) fn finished(&self, outcome: Outcome) {
            let i = outcome as usize;
            self.series.finished[i].increment(1);
            self.series.duration[i].record(self.started.elapsed().as_secs_f64());
            self.series.streams_open.decrement(1.0);
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
