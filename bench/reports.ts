/** Placeholder: the reports benchmark. */
console.log('bench:reports is not written yet');
