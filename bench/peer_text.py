#!/usr/bin/python3
"""PyTorch equivalents of mtl's text encoders, for `npm run bench` (the project's own peer).

Same shapes as bench/networks.ts: a vocabulary of 10,000 ids (0 = padding), texts of
128 tokens with a random share of padding, embedding 64, batch 64, a dense 64 ReLU
trunk, heads 2 (cross-entropy) + 1 (MSE), Adam 1e-3.
- bag: mean of the token embeddings over real tokens
- cnn: one 1-D convolution (64 filters, width 3, ReLU), max over real tokens
- transformer: token + position embeddings, one block of 4-head self-attention and a
  128-64 MLP (residuals, layer norm), mean over real tokens

  /usr/bin/python3 bench/peer_text.py --model text-bag --threads 2 --seconds 10
  -> {"engine": "pytorch", "model": "text-bag", "samples_per_s": ...}
"""
import argparse, json, time
import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, LENGTH, DIM, BATCH = 10000, 128, 64, 64


class Text(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.embed = nn.Embedding(VOCAB, DIM)
        if kind == 'cnn':
            self.conv = nn.Conv1d(DIM, DIM, 3, padding=1)
        if kind == 'transformer':
            self.pos = nn.Parameter(torch.randn(LENGTH, DIM) * 0.02)
            self.attn = nn.MultiheadAttention(DIM, 4, batch_first=True)
            self.n1, self.n2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
            self.mlp = nn.Sequential(nn.Linear(DIM, 2 * DIM), nn.ReLU(), nn.Linear(2 * DIM, DIM))
        self.trunk = nn.Linear(DIM, 64)
        self.cls = nn.Linear(64, 2)
        self.reg = nn.Linear(64, 1)

    def forward(self, ids):
        mask = (ids > 0).float().unsqueeze(-1)
        h = self.embed(ids)
        if self.kind == 'cnn':
            h = F.relu(self.conv(h.transpose(1, 2))).transpose(1, 2)
            v = (h + (mask - 1) * 1e9).max(dim=1).values
        else:
            if self.kind == 'transformer':
                h = h + self.pos
                a, _ = self.attn(h, h, h, key_padding_mask=(ids == 0), need_weights=False)
                h = self.n1(h + a)
                h = self.n2(h + self.mlp(h))
            v = (h * mask).sum(1) / mask.sum(1).clamp(min=1)
        t = F.relu(self.trunk(v))
        return self.cls(t), self.reg(t).squeeze(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='text-bag')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seconds', type=float, default=10)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    net = Text(args.model.split('-', 1)[1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lengths = torch.randint(20, LENGTH + 1, (BATCH * 20,))
    ids = torch.randint(1, VOCAB, (BATCH * 20, LENGTH))
    ids[torch.arange(LENGTH).unsqueeze(0) >= lengths.unsqueeze(1)] = 0
    cls = torch.randint(0, 2, (BATCH * 20,))
    reg = torch.randn(BATCH * 20)

    def step(i):
        s = slice((i % 20) * BATCH, (i % 20 + 1) * BATCH)
        opt.zero_grad()
        logits, value = net(ids[s])
        loss = F.cross_entropy(logits, cls[s]) + F.mse_loss(value, reg[s])
        loss.backward()
        opt.step()

    for i in range(3):
        step(i)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < args.seconds:
        step(n)
        n += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({'engine': 'pytorch', 'model': args.model, 'samples_per_s': n * BATCH / elapsed, 'threads': args.threads}))


if __name__ == '__main__':
    main()
