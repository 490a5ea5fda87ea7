#!/usr/bin/env python3
"""Where a training step spends its time, by phase, from `perf script -F tid,ip,sym` of a frame-pointer build.

Phases: gemm and attention kernel work on the rayon workers, the forward (under batch_losses),
the backward (under a backprop ...::backward frame), candle's barrier-pool work, AdamW, the rest.
Then the main thread's backward and forward by calling op and leaf symbol.

    CARGO_TARGET_DIR=/tmp/target-prof RUSTFLAGS="-C force-frame-pointers=yes" \\
      CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --example train_step
    perf record -F 999 -g -o perf.data /tmp/target-prof/release/examples/train_step ../shared/data/breakfast mmant 233 8
    perf script -i perf.data -F tid,ip,sym > script.txt
    python3 scripts/analysis/perf-phases.py script.txt
"""
import collections,re,sys
samples=[];cur=None
for line in open(sys.argv[1]):
    if not line.strip(): continue
    if not line.startswith('\t'):
        if cur: samples.append(cur)
        cur={'tid':line.split()[0],'stack':[]}
    else:
        parts=line.strip().split(None,1)
        if len(parts)==2: cur['stack'].append(parts[1])
if cur: samples.append(cur)
tids=collections.Counter(s['tid'] for s in samples)
main=tids.most_common()[0][0] if len(sys.argv)<3 else sys.argv[2]
c=collections.Counter(); leaf=collections.Counter(); fwdops=collections.Counter()
def clean(n): return re.sub(r'<[^<>]*>','<>',re.sub(r'<[^<>]*>','<>',n))[:110]
N=len(samples)
for s in samples:
    names=s['stack']
    idx=[k for k,n in enumerate(names) if 'backprop' in n and '>::backward' in n]
    ismain=s['tid']==main
    if idx:
        ph='backward'; i=idx[0]
        leaf[('bwd', clean(names[i-1]) if i>0 else 'self', clean(names[0]))]+=1
    elif any('batch_losses' in n for n in names):
        ph='forward'
        # first mmant frame from the leaf
        m=[n for n in names if n.startswith('mmant::') or n.startswith('<mmant::')]
        fwdops[(clean(m[0]) if m else '?', clean(names[0]))]+=1
    elif any('AdamW' in n or 'optim' in n for n in names): ph='adamw'
    elif any('rayon' in n for n in names):
        ph='rayon-worker:'+('gemm' if any('gemm' in n for n in names) else 'attention' if any('attention_kernel' in n for n in names) else 'layer_norm' if any('layer_norm' in n for n in names) else 'idle/other')
    elif any('call_trampoline' in n or 'BarrierPool' in n for n in names): ph='candle-bp work'
    else: ph='other:'+clean(names[0])[:40]
    c[(ismain,ph)]+=1
print("samples",N)
for k,v in sorted(c.items(), key=lambda x:-x[1])[:14]: print(f"{v/N*100:5.1f}% main={k[0]} {k[1]}")
print('--- main thread, backward: op called by backward / leaf')
for k,v in leaf.most_common(14): print(f"{v/N*100:5.1f}% {k[1]} | {k[2][:60]}")
print('--- main thread, forward: innermost mmant fn / leaf')
for k,v in fwdops.most_common(14): print(f"{v/N*100:5.1f}% {k[0]} | {k[1][:60]}")
