import { Page } from '../components/page.tsx';
import { href } from '../router.ts';

export function NotFoundPage({ adminOnly = false }: { adminOnly?: boolean }) {
  return (
    <Page title={adminOnly ? 'Admin only' : 'No such page'}>
      <p>
        {adminOnly ? 'This page is for the admin key; a viewer key reads its own subtree only.' : 'The address names no page of the dashboard.'}{' '}
        <a href={href('overview')}>Go to the overview</a>.
      </p>
    </Page>
  );
}
