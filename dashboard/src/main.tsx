/** Entry point of app.js: mounts the dashboard into index.html's #app. */
import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
render(<App />, root);
