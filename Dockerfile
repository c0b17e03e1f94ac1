# The image compose.yaml runs Switchyard, the demo greeters and both demo clients from: Node + npm install
# exactly what package-lock.json pins, including Bun itself (the `bun` npm package), so the containers run
# the same Bun and dependency versions as `npm ci` on a laptop.
FROM node:22-bookworm-slim

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .

# bin/switchyard (Node shim that runs the CLI on Bun) and node_modules/.bin/bun on PATH.
ENV PATH=/app/bin:/app/node_modules/.bin:$PATH
CMD ["switchyard", "serve"]
