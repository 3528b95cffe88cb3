# One image for every CortexOps service; docker-compose picks the service with CORTEXOPS_SERVICE.
FROM node:20-bookworm-slim AS deps
RUN npm install -g pnpm@12.21.0
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json tsconfig.json ./
COPY packages/ ./packages/
COPY services/ ./services/
RUN pnpm install --frozen-lockfile

# The image is only built from code that type-checks.
FROM deps AS checked
RUN pnpm run typecheck

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production CORTEXOPS_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=checked /app /app
USER node
# tsx runs the TypeScript sources directly: the same entry points `make up` uses.
CMD ["sh", "-c", "exec node --import tsx services/${CORTEXOPS_SERVICE:?set CORTEXOPS_SERVICE}/src/main.ts"]
