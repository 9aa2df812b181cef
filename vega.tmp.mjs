import * as vega from 'vega';
import * as vl from 'vega-lite';
const spec = {data: {values: [{e:1,v:2,s:'a'},{e:2,v:1,s:'a'},{e:1,v:3,s:'b'}]}, mark: 'line', encoding: {x:{field:'e',type:'quantitative'}, y:{field:'v',type:'quantitative'}, color:{field:'s'}}};
const v = new vega.View(vega.parse(vl.compile(spec).spec), {renderer: 'none'});
const svg = await v.toSVG();
console.log(svg.length, svg.slice(0, 200));
console.log((svg.match(/role-mark/g)||[]).length);
