import { useState, type ReactNode } from 'react';
import { NavLink } from 'react-router';
import { logout } from '../api/client.ts';
import { useSession } from '../auth/session.tsx';

const LINKS = [
  ['/datasets', 'Datasets'],
  ['/query', 'Query'],
  ['/charts', 'Charts'],
  ['/dashboards', 'Dashboards'],
  ['/models', 'Models'],
  ['/jobs', 'Jobs'],
] as const;

export function Layout({ children }: { children: ReactNode }) {
  const { me } = useSession();
  const [open, setOpen] = useState(false);
  // Once the session is gone the app itself shows the login page (see app.tsx).
  const signOut = () => void logout();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/datasets" className="brand">
          DataLab
        </NavLink>
        <button
          type="button"
          className="menu-toggle"
          aria-expanded={open}
          aria-controls="main-nav"
          onClick={() => setOpen(!open)}
        >
          Menu
        </button>
        <nav
          id="main-nav"
          aria-label="Main"
          className={open ? 'open' : undefined}
          onClick={() => setOpen(false)}
        >
          {LINKS.map(([to, label]) => (
            <NavLink key={to} to={to}>
              {label}
            </NavLink>
          ))}
          {me?.role === 'admin' && <NavLink to="/admin">Admin</NavLink>}
          <NavLink to="/account">Account</NavLink>
        </nav>
        <div className="whoami">
          <span>
            {me?.email} <span className="badge">{me?.role}</span>
          </span>
          <button type="button" className="secondary" onClick={signOut}>
            Log out
          </button>
        </div>
      </header>
      <main id="main">{children}</main>
    </>
  );
}
