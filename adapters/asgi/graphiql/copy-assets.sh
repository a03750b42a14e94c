#!/usr/bin/env bash
# Copies the browser builds GraphiQL's page loads (and each package's licence) from the pinned
# npm packages (package.json, package-lock.json) into static/. Run by `make graphiql-assets`;
# the copied files are committed, so the server needs no Node.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
rm -rf static
copy() { # package, file in the package, name in static/<package>/
  mkdir -p "static/$1"
  cp "node_modules/$1/$2" "static/$1/$3"
}
licence() {
  local file
  for file in LICENSE LICENSE.md license; do
    if [[ -f "node_modules/$1/$file" ]]; then cp "node_modules/$1/$file" "static/$1/LICENSE"; return; fi
  done
  # A package that ships no licence file: its declared licence, and its repository's text beside it.
  node -p "const p = require('./node_modules/$1/package.json'); \
    p.name + ' ' + p.version + ' is licensed ' + p.license + ' (package.json; the package ships no licence file). ' + \
    'Its source: ' + (p.repository.url || p.repository) + '; that repository is licensed as static/graphiql/LICENSE says.'" \
    > "static/$1/LICENSE"
}
copy react umd/react.production.min.js react.production.min.js
copy react-dom umd/react-dom.production.min.js react-dom.production.min.js
copy graphiql graphiql.min.js graphiql.min.js
copy graphiql graphiql.min.css graphiql.min.css
copy @graphiql/plugin-explorer dist/index.umd.js plugin-explorer.umd.js
copy @graphiql/plugin-explorer dist/style.css plugin-explorer.css
copy graphql-ws umd/graphql-ws.min.js graphql-ws.min.js
for package in react react-dom graphiql @graphiql/plugin-explorer graphql-ws; do
  licence "$package"
  version="$(node -p "require('./node_modules/$package/package.json').version")"
  echo "$package@$version" >> static/VERSIONS
done
# The explorer plugin's build bundles graphiql-explorer: its licence travels with it.
cp node_modules/@graphiql/plugin-explorer/node_modules/graphiql-explorer/LICENSE static/@graphiql/plugin-explorer/LICENSE.graphiql-explorer
du -sh static
