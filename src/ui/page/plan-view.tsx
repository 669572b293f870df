/** What `nh up` planned: the app's install or upgrade, then per service the action and why. */
import type { SessionModel } from './session-model.js';

export function PlanView(props: { plan: SessionModel['plan'] }) {
  const { plan } = props;
  if (!plan) return <p class="muted">no plan yet</p>;
  return (
    <section class="plan" aria-label="plan">
      {plan.app && <p>app <strong>{plan.app.name}</strong>: {plan.app.action} — {plan.app.reason}</p>}
      <table>
        <thead><tr><th>service</th><th>workload</th><th>action</th><th>reason</th><th>fields</th></tr></thead>
        <tbody>
          {plan.services.map((s) => (
            <tr key={s.service} class={`action-${s.action}`}>
              <td>{s.service}</td>
              <td>{s.workload.kind}/{s.workload.name}</td>
              <td>{s.action}</td>
              <td>{s.reason}{s.owner && ` (dev mode of ${s.owner.identity} since ${new Date(s.owner.since).toLocaleString()})`}</td>
              <td>{s.fields.join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
