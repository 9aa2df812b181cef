# GPU training image for mtl: CUDA 11.2 + cuDNN 8 (what @tensorflow/tfjs-node-gpu 4.22,
# i.e. libtensorflow 2.9, links against) with Node.js 20.
#
#   docker build -t mtl-gpu .
#   docker run --rm --gpus all -v "$PWD/runs:/app/runs" mtl-gpu train configs/fashion-mnist.yaml --device gpu
#   docker run --rm --gpus all mtl-gpu doctor
#
# Needs the NVIDIA driver and the NVIDIA container toolkit on the host. The build
# downloads libtensorflow (through tfjs-node-gpu's install script), so it needs internet.
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg python3 make g++ \
 && curl -fsSL https://deb.nodesource.com/setup_20.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY scripts ./scripts
COPY configs ./configs
COPY datasets ./datasets
# The optional native engines install here (internet available); tfjs-node-gpu must be present.
RUN npm ci && node -e "require.resolve('@tensorflow/tfjs-node-gpu')"

ENTRYPOINT ["node", "bin/mtl.js"]
CMD ["doctor"]
