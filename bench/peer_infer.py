#!/usr/bin/python3
"""Inference peer for `npm run bench`: the reference networks of ../shared/bench/peer_torch.py
(imported from there, not copied) run in eval mode under torch.no_grad(), as mtl's
eval/predict path runs them: batches of 256, both heads' outputs and losses.

  /usr/bin/python3 bench/peer_infer.py --model resnet50 --threads 2 --seconds 10
  -> {"engine": "pytorch-...", "model": "resnet50", "mode": "inference", "samples_per_s": ...}

--peer PATH names peer_torch.py (default: ../../shared/bench/peer_torch.py from this file).
"""
import argparse, importlib.util, json, os, time
import torch
import torch.nn.functional as F


def load_peer(path):
    spec = importlib.util.spec_from_file_location('peer_torch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser()
    p.add_argument('--model', choices=['cnn', 'mlp', 'resnet50'], default='cnn')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seconds', type=float, default=10.0)
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--size', type=int, default=64, help='resnet50 input height and width')
    p.add_argument('--peer', default=os.path.join(here, '..', '..', 'shared', 'bench', 'peer_torch.py'))
    a = p.parse_args()
    peer = load_peer(a.peer)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    batch = a.batch
    if a.model == 'cnn':
        net, x, classes = peer.CNN(), torch.randn(batch, 3, 32, 32), 10
    elif a.model == 'resnet50':
        net, x, classes = peer.ResNet50(), torch.randn(batch, 3, a.size, a.size), 10
    else:
        net, x, classes = peer.MLP(), torch.randn(batch, 8), 3
    yc = torch.randint(0, classes, (batch,))
    yr = torch.randn(batch)
    net.eval()

    def step():
        with torch.no_grad():
            logits, value = net(x)
            loss = F.cross_entropy(logits, yc) + F.mse_loss(value, yr)
            return float(loss), logits.numpy().copy(), value.numpy().copy()

    for _ in range(2):
        step()
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < a.seconds or steps < 2:
        step()
        steps += 1
    dt = time.perf_counter() - t0
    print(json.dumps({'engine': 'pytorch-' + torch.__version__, 'model': a.model, 'mode': 'inference', 'threads': a.threads,
                      'batch': batch, 'steps': steps, 'seconds': round(dt, 3), 'samples_per_s': round(steps * batch / dt, 1)}))


if __name__ == '__main__':
    main()
