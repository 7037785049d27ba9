// ncc writes one folder per entry; action.yml wants dist/index.js and dist/post.js.
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'

for (const [folder, name] of [
  ['dist/main', 'index.js'],
  ['dist/post', 'post.js']
]) {
  const files = readdirSync(folder)
  const extra = files.filter((f) => !['index.js', 'package.json', 'licenses.txt'].includes(f))
  if (extra.length > 0) throw new Error(`unexpected ncc output in ${folder}: ${extra.join(', ')}`)
  renameSync(`${folder}/index.js`, `dist/${name}`)
  if (existsSync(`${folder}/licenses.txt`))
    renameSync(`${folder}/licenses.txt`, 'dist/licenses.txt')
  rmSync(folder, { recursive: true })
}
writeFileSync('dist/package.json', '{\n  "type": "module"\n}\n')
