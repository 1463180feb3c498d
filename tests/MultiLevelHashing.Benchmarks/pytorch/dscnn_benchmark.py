#!/usr/bin/python3
"""The PyTorch side of `mlh bench pytorch`: the DSCNN of lib/MultiLevelHashing/README.md (sections 1.5, 2.1-2.5)
rebuilt in PyTorch, loaded from the state_dict that `mlh export` writes, and timed on the same work as the C# side.

One run measures one thing and prints one JSON line on stdout:

  --mode infer         forward passes of a fixed uint8 batch file (images/s); with --codes-out, also the relaxed
                       codes u_g and u_l of every image, for the comparison of codes
  --mode train-heads   training steps of the two heads on fixed feature maps F (steps/s)
  --mode train-layer4  training steps of layer4 and the heads, the whole backbone in the forward pass (steps/s)
  --mode e2e           JPEG files to codes: decoding and resizing in DataLoader workers (--workers), in parallel with the
                       network; with --draft, PIL decodes at reduced scale (Image.draft)
  --mode stages        the forward pass stage by stage (the stages of PyTorchComparison.StageNames on the C# side),
                       milliseconds per batch of every timed pass, after one untimed pass
  --mode check         prints the library versions and exits

Usage: /usr/bin/python3 dscnn_benchmark.py --weights model.safetensors --mode infer --input batch.npy ...
Needs Debian's python3-torch, python3-numpy (and python3-pil for --mode e2e), installed as root with
  apt-get update && apt-get install --no-install-recommends python3-torch python3-pil python3-numpy
(without the recommends: python3-torch recommends libtorch-dev, which would shadow the LibTorch of TorchSharp)
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as missing:
    sys.stderr.write(f"error: {missing}; install as root with: apt-get update && apt-get install --no-install-recommends python3-torch python3-pil python3-numpy\n")
    sys.exit(3)


# ---------------------------------------------------------------- the network (same names as the TorchSharp modules)

def same_pad(x, kernel, stride, value=0.0):
    """CNTK "same" padding: output ceil(n / stride), the odd pixel before (top/left); README section 2.1."""
    def pads(n):
        out = (n + stride - 1) // stride
        total = max(0, (out - 1) * stride + kernel - n)
        before = (total + 1) // 2
        return before, total - before
    top, bottom = pads(x.shape[2])
    left, right = pads(x.shape[3])
    return F.pad(x, [left, right, top, bottom], value=value)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1 if stride == 1 else 0, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=1e-5)
        if stride != 1 or cin != cout:
            self.downsample_conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.downsample_bn = nn.BatchNorm2d(cout, eps=1e-5)
        else:
            self.downsample_conv = None

    def forward(self, x):
        inp = x if self.stride == 1 else same_pad(x, 3, self.stride)
        y = F.relu(self.bn1(self.conv1(inp)))
        y = self.bn2(self.conv2(y))
        shortcut = x if self.downsample_conv is None else self.downsample_bn(self.downsample_conv(x))
        return F.relu(y + shortcut)


class ResNet18Backbone(nn.Module):
    """The CNTK ResNet18 of the ML.NET weights package: stages of [2, 2, 2, 3] blocks; BGR minus a mean image."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        blocks, channels = [2, 2, 2, 3], [64, 128, 256, 512]
        cin = 64
        for i, (n, c) in enumerate(zip(blocks, channels)):
            stride = 1 if i == 0 else 2
            stage = [BasicBlock(cin, c, stride)] + [BasicBlock(c, c, 1) for _ in range(n - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
            cin = c
        self.register_buffer("mean_image", torch.zeros(1, 3, 224, 224))

    def preprocess(self, rgb):
        """RGB [0, 255] to BGR minus the mean image (resized to the input's size when needed)."""
        h, w = rgb.shape[2], rgb.shape[3]
        mean = self.mean_image if (h, w) == tuple(self.mean_image.shape[2:]) else \
            F.interpolate(self.mean_image, size=[h, w], mode="bilinear", align_corners=False)
        return rgb.flip(1) - mean

    def forward(self, rgb):
        x = self.preprocess(rgb)
        x = F.relu(self.bn1(self.conv1(same_pad(x, 7, 2))))
        x = F.max_pool2d(same_pad(x, 3, 2, float("-inf")), kernel_size=3, stride=2)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class GlobalHashHead(nn.Module):
    def __init__(self, channels, bits, pooling, normalize):
        super().__init__()
        self.fc = nn.Linear(channels, bits)
        self.pooling, self.normalize, self.scale = pooling, normalize, math.sqrt(channels)

    def forward(self, f):
        if self.pooling == "Average":
            d = f.mean([2, 3])
        else:
            d = f.clamp_min(1e-6).pow(3.0).mean([2, 3]).pow(1.0 / 3.0)
        if self.normalize:
            d = F.normalize(d, dim=1) * self.scale
        return torch.tanh(self.fc(d))


class LocalHashHead(nn.Module):
    def __init__(self, channels, bits):
        super().__init__()
        self.conv = nn.Conv2d(channels, bits, 1)

    def forward(self, f):
        maps = torch.tanh(self.conv(f))
        return maps.amax([2, 3]), maps


class DscnnModel(nn.Module):
    def __init__(self, architecture):
        super().__init__()
        if architecture["Backbone"] != "ResNet18":
            raise SystemExit(f"error: this script builds the ResNet18 DSCNN, the export has backbone {architecture['Backbone']}")
        self.backbone = ResNet18Backbone()
        self.global_head = GlobalHashHead(512, architecture["GlobalBits"], architecture["Pooling"], architecture["NormalizeGlobalDescriptor"])
        self.local_head = LocalHashHead(512, architecture["LocalBits"])

    def forward_heads(self, f):
        ul, _ = self.local_head(f)
        return self.global_head(f), ul

    def forward(self, rgb):
        return self.forward_heads(self.backbone(rgb))


# ---------------------------------------------------------------- weights

SAFETENSORS_TYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """The safetensors layout: u64 header length, JSON header {name: {dtype, shape, data_offsets}}, then the bytes."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length].decode("utf-8"))
    base = 8 + length
    state = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = SAFETENSORS_TYPES[entry["dtype"]]
        buffer = bytearray(raw[base + start:base + end])
        state[name] = torch.frombuffer(buffer, dtype=dtype).reshape(entry["shape"]).clone() if end > start \
            else torch.zeros(entry["shape"], dtype=dtype)
    return state


def load_model(weights):
    info_path = os.path.splitext(weights)[0] + ".json"
    with open(info_path) as f:
        info = json.load(f)
    model = DscnnModel(info["Architecture"])
    state = read_safetensors(weights) if weights.endswith(".safetensors") else torch.load(weights, map_location="cpu")
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, info


# ---------------------------------------------------------------- training step (README section 2.4-2.5)

def dsh_level(u1, u2, s, alpha, margin_per_bit=2.0):
    margin = margin_per_bit * u1.shape[1]
    d2 = (u1 - u2).pow(2).sum(1)
    attract = 0.5 * s * d2
    repel = 0.5 * (1 - s) * F.relu(margin - d2)
    quant = alpha * ((u1.abs() - 1).abs().sum(1) + (u2.abs() - 1).abs().sum(1))
    return (attract + repel + quant).mean()


def bit_independence(u):
    n, k = u.shape
    gram = u.t().matmul(u) / n
    return (gram - torch.eye(k, dtype=u.dtype)).pow(2).sum() / k


def train_steps(model, inputs, heads_only, steps, warmup, lr=3e-4, weight_decay=0.05, alpha=0.01, beta=0.25, gamma=10.0):
    """Pairs (2i, 2i+1) of the batch, alternately similar; AdamW as the library's HashOptimizer."""
    for p in model.parameters():
        p.requires_grad = False
    trainable = list(model.global_head.parameters()) + list(model.local_head.parameters())
    if not heads_only:
        trainable += list(model.backbone.layer4.parameters())
    for p in trainable:
        p.requires_grad = True
    # Frozen parts and every batch norm in eval mode (the pretrained statistics are kept), as the library's SetMode.
    model.eval()
    model.global_head.train()
    model.local_head.train()
    if not heads_only:
        model.backbone.layer4.train()
        for m in model.backbone.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
    optimizer = torch.optim.AdamW(trainable, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=weight_decay)
    n = inputs.shape[0]
    first = torch.arange(0, n, 2)
    second = torch.arange(1, n, 2)
    similar = (torch.arange(n // 2) % 2 == 0).float()

    def step():
        ug, ul = model.forward_heads(inputs) if heads_only else model(inputs)
        total = dsh_level(ug[first], ug[second], similar, alpha) + beta * dsh_level(ul[first], ul[second], similar, alpha)
        total = total + gamma * bit_independence(ug)
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        return total.item()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


# ---------------------------------------------------------------- the forward pass stage by stage

STAGES = ["preprocess", "pad 7x7", "conv1 + bn + relu", "max pool (with its padding)", "layer1", "layer2", "layer3", "layer4",
          "global head", "local head"]


def profile_stages(model, pixels, batch, passes):
    """Milliseconds per batch of each stage (CPU operations run synchronously, so a timer around a stage times it)."""
    b = model.backbone
    times = {name: [] for name in STAGES}
    with torch.no_grad():
        for p in range(passes + 1):
            for start in range(0, pixels.shape[0] - batch + 1, batch):
                x = pixels[start:start + batch].float()
                stage = [0]

                def timed(run):
                    began = time.perf_counter()
                    y = run()
                    if p > 0:
                        times[STAGES[stage[0]]].append(1000 * (time.perf_counter() - began))
                    stage[0] += 1
                    return y

                x = timed(lambda: b.preprocess(x))
                x = timed(lambda: same_pad(x, 7, 2))
                x = timed(lambda: F.relu(b.bn1(b.conv1(x))))
                x = timed(lambda: F.max_pool2d(same_pad(x, 3, 2, float("-inf")), kernel_size=3, stride=2))
                for layer in (b.layer1, b.layer2, b.layer3, b.layer4):
                    x = timed(lambda: layer(x))
                f = x
                timed(lambda: model.global_head(f))
                timed(lambda: model.local_head(f)[0])
    return times


# ---------------------------------------------------------------- end to end from files

class JpegFiles(torch.utils.data.Dataset):
    def __init__(self, paths, size, draft=False):
        self.paths, self.size, self.draft = paths, size, draft

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from PIL import Image
        with Image.open(self.paths[i]) as image:
            if self.draft:
                # PIL's reduced-scale JPEG decoding: libjpeg's 1/2, 1/4 or 1/8 scale, the smallest at least this size.
                image.draft("RGB", (self.size, self.size))
            image = image.convert("RGB").resize((self.size, self.size), Image.BICUBIC)
            return torch.from_numpy(np.asarray(image, dtype=np.uint8).transpose(2, 0, 1).copy())


def end_to_end(model, folder, size, batch, workers, draft):
    paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg")))
    loader = torch.utils.data.DataLoader(JpegFiles(paths, size, draft), batch_size=batch, num_workers=workers,
                                         prefetch_factor=4 if workers > 0 else 2, persistent_workers=False)
    done = 0
    with torch.no_grad():
        # Warm-up, as on the C# side: the first batch of a shape prepares the convolution kernels.
        model(torch.zeros(batch, 3, size, size))
        start = time.perf_counter()
        for pixels in loader:
            ug, ul = model(pixels.float())
            (ug > 0).numpy(), (ul > 0).numpy()
            done += pixels.shape[0]
    return done / (time.perf_counter() - start), done


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", required=True, choices=["infer", "train-heads", "train-layer4", "e2e", "stages", "check"])
    parser.add_argument("--weights")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--input", help="infer, train-layer4: uint8 .npy, N x 3*S*S; train-heads: float32 .npy, N x C*h*w")
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=4, help="infer: passes over the input after one warm-up pass")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--codes-out", help="infer: write u_g and u_l of every input image to <this>.global.npy / .local.npy")
    parser.add_argument("--images", help="e2e: folder of JPEG files")
    parser.add_argument("--workers", type=int, default=1, help="e2e: DataLoader worker processes")
    parser.add_argument("--draft", action="store_true", help="e2e: decode JPEG files at reduced scale with PIL's Image.draft")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    if args.mode == "check":
        print(json.dumps({"torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads()}))
        return
    model, info = load_model(args.weights)
    torch.manual_seed(0)

    if args.mode == "infer":
        raw = np.load(args.input)
        pixels = torch.from_numpy(raw.reshape(raw.shape[0], 3, args.size, args.size).copy())
        n = pixels.shape[0]
        with torch.no_grad():
            outputs = []
            for start in range(0, n, args.batch):  # warm-up pass, which also gives the codes
                outputs.append(model(pixels[start:start + args.batch].float()))
            began = time.perf_counter()
            for _ in range(args.repeats):
                for start in range(0, n, args.batch):
                    ug, ul = model(pixels[start:start + args.batch].float())
                    (ug > 0).numpy(), (ul > 0).numpy()
            rate = args.repeats * n / (time.perf_counter() - began)
        if args.codes_out:
            np.save(args.codes_out + ".global.npy", torch.cat([o[0] for o in outputs]).numpy().astype(np.float32))
            np.save(args.codes_out + ".local.npy", torch.cat([o[1] for o in outputs]).numpy().astype(np.float32))
        print(json.dumps({"mode": args.mode, "rate": rate, "images": n, "threads": torch.get_num_threads(), "torch": torch.__version__}))
    elif args.mode == "stages":
        raw = np.load(args.input)
        pixels = torch.from_numpy(raw.reshape(raw.shape[0], 3, args.size, args.size).copy())
        times = profile_stages(model, pixels, args.batch, args.repeats)
        total = sum(statistics.median(v) for v in times.values())
        print(json.dumps({"mode": args.mode, "rate": args.batch / (total / 1000), "stages": times, "threads": torch.get_num_threads()}))
    elif args.mode in ("train-heads", "train-layer4"):
        raw = np.load(args.input)
        if args.mode == "train-heads":
            inputs = torch.from_numpy(raw.reshape(raw.shape[0], 512, -1).copy())
            side = int(round(math.sqrt(inputs.shape[2])))
            inputs = inputs.reshape(raw.shape[0], 512, side, side).float()
        else:
            inputs = torch.from_numpy(raw.reshape(raw.shape[0], 3, args.size, args.size).copy()).float()
        rate = train_steps(model, inputs, args.mode == "train-heads", args.steps, args.warmup)
        print(json.dumps({"mode": args.mode, "rate": rate, "batch": inputs.shape[0], "threads": torch.get_num_threads()}))
    else:
        rate, n = end_to_end(model, args.images, args.size, args.batch, args.workers, args.draft)
        print(json.dumps({"mode": args.mode, "rate": rate, "images": n, "workers": args.workers, "draft": args.draft, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
