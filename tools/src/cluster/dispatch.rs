//! Which unit a worker gets when it asks: rank 0's hand-out policy, free of
//! MPI so it can be tested on its own.
//!
//! Units go out in job order (integration by integration, band group by
//! band group). Memory on rank 0 stays bounded: results wait in the
//! collector until every earlier integration is in, so a slow rank holding
//! integration k would let the others run ahead without limit. Units are
//! therefore handed out at most `window` integrations ahead of the next one
//! to be written; a worker asking beyond that waits. One exception keeps it
//! from deadlocking: a worker asks for its next unit before it sends the
//! result of the one in hand (so it can read ahead), and a worker still
//! holding a unit is always answered (else it could never deliver that
//! unit, and the output might be waiting for exactly that). So rank 0 holds
//! at most `window` + (workers) integrations.

use correlator::engine::WorkUnit;
use std::collections::VecDeque;

/// The answer to a worker's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Unit(WorkUnit),
    /// No more work: the worker may finish.
    Stop,
    /// Not now: ask again once the output has moved on (the dispatcher
    /// keeps the request, see [`Dispatcher::ready`]).
    Wait,
}

#[derive(Debug)]
pub struct Dispatcher {
    /// Band groups, one unit each per integration.
    groups: Vec<Vec<usize>>,
    /// Next unit: (integration, group).
    next: (u64, usize),
    /// Integrations in the job, when known.
    end: Option<u64>,
    window: u64,
    /// Units handed to each rank and not yet returned.
    outstanding: Vec<u32>,
    waiting: VecDeque<usize>,
    /// No more units, whatever remains (a failure, or the data ended).
    closed: bool,
}

impl Dispatcher {
    pub fn new(
        groups: Vec<Vec<usize>>,
        first_integration: u64,
        end: Option<u64>,
        ranks: usize,
        window: u64,
    ) -> Self {
        Dispatcher {
            groups,
            next: (first_integration, 0),
            end,
            window: window.max(1),
            outstanding: vec![0; ranks],
            waiting: VecDeque::new(),
            closed: false,
        }
    }

    /// A worker's request; `next_to_write` is the collector's next
    /// integration.
    pub fn request(&mut self, rank: usize, next_to_write: u64) -> Reply {
        let reply = self.answer(rank, next_to_write);
        if reply == Reply::Wait {
            self.waiting.push_back(rank);
        }
        reply
    }

    /// A result came back from `rank`.
    pub fn returned(&mut self, rank: usize) {
        self.outstanding[rank] = self.outstanding[rank].saturating_sub(1);
    }

    /// Hand out no more units (a rank failed, or the data ended).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Waiting requests that can be answered now, in the order they came.
    pub fn ready(&mut self, next_to_write: u64) -> Vec<(usize, Reply)> {
        let mut out = Vec::new();
        let mut still = VecDeque::new();
        while let Some(rank) = self.waiting.pop_front() {
            match self.answer(rank, next_to_write) {
                Reply::Wait => still.push_back(rank),
                r => out.push((rank, r)),
            }
        }
        self.waiting = still;
        out
    }

    fn answer(&mut self, rank: usize, next_to_write: u64) -> Reply {
        let (int, group) = self.next;
        if self.closed || self.end.is_some_and(|e| int >= e) {
            return Reply::Stop;
        }
        if self.outstanding[rank] == 0 && int >= next_to_write + self.window {
            return Reply::Wait;
        }
        self.next = if group + 1 == self.groups.len() {
            (int + 1, 0)
        } else {
            (int, group + 1)
        };
        self.outstanding[rank] += 1;
        Reply::Unit(WorkUnit {
            integration: int,
            bands: self.groups[group].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(r: Reply) -> (u64, Vec<usize>) {
        match r {
            Reply::Unit(u) => (u.integration, u.bands),
            other => panic!("expected a unit, got {other:?}"),
        }
    }

    #[test]
    fn units_go_out_in_order_and_stop_at_the_end() {
        let mut d = Dispatcher::new(vec![vec![0, 1], vec![2]], 3, Some(5), 3, 100);
        let got: Vec<_> = (0..4).map(|i| unit(d.request(1 + i % 2, 3))).collect();
        assert_eq!(
            got,
            vec![(3, vec![0, 1]), (3, vec![2]), (4, vec![0, 1]), (4, vec![2])]
        );
        assert_eq!(d.request(1, 3), Reply::Stop);
        assert_eq!(d.request(2, 3), Reply::Stop);
    }

    #[test]
    fn a_slow_rank_bounds_how_far_the_others_run_ahead_without_deadlock() {
        // Ranks 1 and 2; one unit per integration; window 3.
        let mut d = Dispatcher::new(vec![vec![0]], 0, None, 3, 3);
        // Rank 1 takes integration 0 and is slow.
        assert_eq!(unit(d.request(1, 0)).0, 0);
        // Rank 2 runs through 1 and 2, then has returned everything: at
        // integration 3 = 0 + window it must wait.
        assert_eq!(unit(d.request(2, 0)).0, 1);
        // (It asks for the next while holding 1: always answered.)
        assert_eq!(unit(d.request(2, 0)).0, 2);
        d.returned(2);
        assert_eq!(unit(d.request(2, 0)).0, 3, "holds 2 still: answered");
        d.returned(2);
        d.returned(2);
        assert_eq!(d.request(2, 0), Reply::Wait);
        // Rank 1, still holding 0, asks ahead: answered, so it can deliver 0.
        assert_eq!(unit(d.request(1, 0)).0, 4);
        assert!(d.ready(0).is_empty(), "nothing written yet");
        // Integration 0 written (and 1..3 with it): the waiting rank goes on.
        d.returned(1);
        let r = d.ready(4);
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].0, unit(r[0].1.clone()).0), (2, 5));
        // Closing answers everyone with Stop, waiting ones included.
        d.returned(2);
        d.returned(1);
        assert_eq!(
            d.request(1, 4),
            Reply::Unit(WorkUnit {
                integration: 6,
                bands: vec![0]
            })
        );
        d.returned(1);
        assert_eq!(d.request(2, 0), Reply::Wait);
        d.close();
        assert_eq!(d.ready(0), vec![(2, Reply::Stop)]);
        assert_eq!(d.request(1, 0), Reply::Stop);
    }
}
