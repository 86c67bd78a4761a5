"""Prints what the portable attention costs against the fused operator, per score budget (not a test).

  .venv/bin/python benchmarks/bench_attention.py                              # 1024 and 2048, budgets 2-64 MB
  .venv/bin/python benchmarks/bench_attention.py --resolutions 2048 --budgets 4,8,16 --repeats 5

The shape is one global-attention layer of Hiera's third stage, which is most of the attention's cost at these
resolutions: 8 heads of 56 channels over (resolution / 16)^2 tokens. Each budget is timed interleaved with
scaled_dot_product_attention in one process (the same machine load for both), wall and CPU time, best of the
repeats; exporter/scripted/attention.py's `score_budget` is the budget chosen from these figures and whole frames
(bench_resolutions.py).
"""
import argparse
import sys

from harness import ROOT, load_average, timed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="1024,2048")
    parser.add_argument("--budgets", default="2,8,32,64", help="score budgets in MB")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    import torch

    from exporter.memory import limit_heap_retention

    limit_heap_retention()  # as the exporter and the frame benchmarks run
    if args.threads:
        torch.set_num_threads(args.threads)
    budgets = [int(float(mb) * 1024 * 1024) for mb in args.budgets.split(",")]
    print("torch %s, %d threads, load average %.1f" % (torch.__version__, torch.get_num_threads(), load_average()))
    for resolution in (int(r) for r in args.resolutions.split(",")):
        best = measure(resolution, budgets, args.repeats)
        fused_wall, fused_cpu = best["fused"]
        for name, (wall, cpu) in best.items():
            print("res %4d, %5d tokens, %-8s wall %7.3f s (x%.2f)  cpu %7.3f s (x%.2f)" % (
                resolution, (resolution // 16) ** 2, name, wall, wall / fused_wall, cpu, cpu / fused_cpu), flush=True)
        print("res %4d load average %.1f" % (resolution, load_average()), flush=True)


def measure(resolution, budgets, repeats):
    """{name: (best wall s, best cpu s)} for the fused op and each budget, interleaved."""
    import torch
    import torch.nn.functional as F

    from exporter.scripted.attention import chunked_attention

    tokens, heads, channels = (resolution // 16) ** 2, 8, 56
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, heads, tokens, channels, generator=gen) for _ in range(3))
    runs = {"fused": lambda: F.scaled_dot_product_attention(q, k, v)}
    for budget in budgets:
        runs["%g MB" % (budget / 1024 / 1024)] = lambda b=budget: chunked_attention(q, k, v, channels ** -0.5, b)
    with torch.no_grad():
        expected = runs["fused"]()
        for name, run in runs.items():
            error = float((run() - expected).abs().max())  # also the warm-up
            assert error < 1e-4, (name, error)
        best = {name: (float("inf"), float("inf")) for name in runs}
        for _ in range(repeats):
            for name, run in runs.items():
                wall, cpu = timed(run)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


if __name__ == "__main__":
    main()
