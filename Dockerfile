# syntax=docker/dockerfile:1
#
# BIZRA node image.
#   docker build -t bizra-node .
#   docker run -d --name bizra -p 9000:9000 -p 127.0.0.1:9100:9100 -v bizra-data:/data bizra-node
#
# The sources are TypeScript run directly by Node 24's type stripping: there is
# no compile step, the build stage only installs, type-checks and prunes.

############################ build ############################
FROM node:24-slim AS build
WORKDIR /app

# No compiler here, and none needed: classic-level (LevelDB) ships prebuilt
# binaries for linux-x64 and linux-arm64 on glibc (prebuilds/linux-x64/
# classic-level.node, prebuilds/linux-arm64/classic-level.armv8.node), which
# node-gyp-build picks at install. On another platform add
# `apt-get install -y python3 make g++` before `npm ci`.
COPY package.json package-lock.json ./
# Fixes to dependencies (node/patches/README.md), applied by npm ci's postinstall.
COPY node/patches ./node/patches
RUN npm ci --no-audit --no-fund

# Everything the type-check covers (tsconfig.json includes testnet/, scripts/
# and the tests); .dockerignore keeps node_modules, .git and the like out.
COPY . .
RUN npm run typecheck

# Production dependencies only, no tests; the folders that may still be empty
# (and so absent from a git checkout) are created so the COPYs below never fail.
RUN npm prune --omit=dev --no-audit --no-fund \
  && rm -rf node/test protocol/test consensus/test testnet/test \
  && mkdir -p node protocol consensus governance sim proto

############################ runtime ############################
FROM node:24-slim
ENV NODE_ENV=production \
    XDG_DATA_HOME=/data
# The data dir is $XDG_DATA_HOME/bizra = /data/bizra (key, config, LevelDB).
RUN groupadd --system --gid 10001 bizra \
  && useradd --system --uid 10001 --gid bizra --home-dir /data --no-create-home --shell /usr/sbin/nologin bizra \
  && mkdir -p /data/bizra \
  && chown -R bizra:bizra /data \
  && chmod 700 /data/bizra

WORKDIR /app
# Code stays owned by root: the daemon can read it but not change it.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/node ./node
COPY --from=build /app/protocol ./protocol
COPY --from=build /app/consensus ./consensus
COPY --from=build /app/governance ./governance
COPY --from=build /app/sim ./sim
COPY --from=build /app/proto ./proto

USER bizra
VOLUME /data
# 9000: libp2p (TCP); 9100: HTTP API (/health, /metrics, /v1/...).
EXPOSE 9000 9100

# Uses the API on its default port 9100; change it here too if you pass --api-port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9100/health',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]

# Node handles SIGTERM itself (graceful stop of API, libp2p, then the store).
# `docker stop` sends SIGKILL after 10 s, the same as shutdown.timeoutMs's
# default; give it room with `docker stop -t 15` / `stop_grace_period: 15s`.
STOPSIGNAL SIGTERM
# A fixed 32 MB semi-space (V8's young generation): see README.md, "V8 heap flags".
ENTRYPOINT ["node", "--min-semi-space-size=32", "--max-semi-space-size=32", "/app/node/bin/bizra.js"]
CMD ["start", "--api-host", "0.0.0.0"]
