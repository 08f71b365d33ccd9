# One image for the collector, correlator and console: the command picks the component.
# The build stage compiles the TypeScript; the image holds the compiled dist/, the page, the rule pack
# and the production dependencies only (no tests, no TypeScript, no tsx, no vitest).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the image's own Node 24 runs the build, not the `node` dev dependency.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY cli ./cli
COPY shared ./shared
COPY collector ./collector
COPY correlator ./correlator
COPY console ./console
# `canhgac services` fetches a development Kafka and Elasticsearch with Maven: not for production.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && rm -rf dist/cli/services dist/cli/commands/services.js dist/cli/commands/services.js.map

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/canhgac
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin/canhgac.mjs ./bin/
COPY --from=build /src/dist ./dist
COPY console/page ./console/page
COPY rules ./rules
RUN useradd --system --home /var/lib/canhgac canhgac && mkdir -p /var/lib/canhgac && chown canhgac /var/lib/canhgac
USER canhgac
ENTRYPOINT ["node", "/opt/canhgac/bin/canhgac.mjs"]
CMD ["--help"]
