// ncc writes one folder per entry; action.yml wants dist/index.js and dist/post.js. The main
// entry loads the action as chunks (`<id>.index.js`, see src/index.ts), which move along; the
// post step is one file, so that its chunks cannot collide with main's.
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'

const CHUNK = /^\d+\.index\.js$/

for (const [folder, name, chunks] of [
  ['dist/main', 'index.js', true],
  ['dist/post', 'post.js', false]
]) {
  const files = readdirSync(folder)
  const moved = files.filter((f) => chunks && CHUNK.test(f))
  const known = ['index.js', 'package.json', 'licenses.txt', ...moved]
  const extra = files.filter((f) => !known.includes(f))
  if (extra.length > 0) throw new Error(`unexpected ncc output in ${folder}: ${extra.join(', ')}`)
  renameSync(`${folder}/index.js`, `dist/${name}`)
  for (const chunk of moved) renameSync(`${folder}/${chunk}`, `dist/${chunk}`)
  if (existsSync(`${folder}/licenses.txt`))
    renameSync(`${folder}/licenses.txt`, 'dist/licenses.txt')
  rmSync(folder, { recursive: true })
}
writeFileSync('dist/package.json', '{\n  "type": "module"\n}\n')
