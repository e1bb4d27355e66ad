//! How long the checkers take over a history, per operation: they run after every drill, so they
//! must stay far below the drill's own length.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use failover_drill::checker::{
    duplicate_writes, foreign_sessions, lost_sessions, lost_writes, rollbacks, stale_reads,
    timeline, user_errors,
};
use failover_drill::history::synthetic::synthetic_history;

fn checkers(c: &mut Criterion) {
    let mut group = c.benchmark_group("checkers");
    // 20 users as in kill-master; 200 operations each is a 20 s run at 200 req/s.
    for ops_per_user in [200u64, 2_000] {
        let history = synthetic_history(20, ops_per_user);
        group.throughput(Throughput::Elements(20 * ops_per_user));
        group.bench_with_input(
            BenchmarkId::new("all", 20 * ops_per_user),
            &history,
            |b, h| {
                b.iter(|| {
                    (
                        lost_sessions::check(h),
                        lost_writes::check(h),
                        rollbacks::check(h),
                        stale_reads::check(h),
                        duplicate_writes::check(h),
                        foreign_sessions::check(h),
                        user_errors::check(h),
                        timeline::check(h),
                    )
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, checkers);
criterion_main!(benches);
