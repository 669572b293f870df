/**
 * dependsOn, pure. A service's process starts once every service it depends on accepts connections (see
 * dev-loop.ts for how that is checked); this module only answers which services a start waits for.
 * Dependencies outside the selected services are not waited for: `nh up web` runs web alone, as asked.
 * Cycles are rejected by `nh validate` (config/rules.ts), so here they cannot happen.
 */
export interface DependencyNode {
  readonly name: string;
  readonly dependsOn: readonly string[];
}

/** The selected services each service waits for. */
export function waitsFor(services: readonly DependencyNode[]): Map<string, string[]> {
  const selected = new Set(services.map((s) => s.name));
  return new Map(services.map((s) => [s.name, s.dependsOn.filter((d) => selected.has(d) && d !== s.name)]));
}

/** Services in an order where each comes after its dependencies (stable otherwise), for listings. */
export function startOrder(services: readonly DependencyNode[]): string[] {
  const deps = waitsFor(services);
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (name: string, path: ReadonlySet<string>) => {
    if (done.has(name) || path.has(name)) return;
    for (const dep of deps.get(name) ?? []) visit(dep, new Set([...path, name]));
    done.add(name);
    order.push(name);
  };
  for (const s of services) visit(s.name, new Set());
  return order;
}
